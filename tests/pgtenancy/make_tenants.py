"""``python -m tests.pgtenancy.make_tenants N``: dynamic tenants t1..tN of the
django-pgschemas site, each with its schema created and migrated by the library, and a
primary domain (the static tenant ``www`` is migrated by ``migrate``)."""

import sys

import django

django.setup()

from tests.pgtenancy.clients.models import Domain, Tenant  # noqa: E402

for n in range(1, int(sys.argv[1]) + 1):
    tenant = Tenant(schema_name=f"t{n}")
    tenant.save(verbosity=0)  # creates and migrates its schema
    Domain(domain=f"t{n}.localhost", tenant=tenant, is_primary=True).save()
