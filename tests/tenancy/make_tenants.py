"""``python -m tests.tenancy.make_tenants N``: the public tenant and N tenants t1..tN, each
with its schema created and migrated by django-tenants, and a primary domain."""

import sys

import django

django.setup()

from tests.tenancy.customers.models import Client, Domain  # noqa: E402

public = Client(schema_name="public", name="public")
public.save()
Domain(domain="public.localhost", tenant=public, is_primary=True).save()
for n in range(1, int(sys.argv[1]) + 1):
    tenant = Client(schema_name=f"t{n}", name=f"tenant {n}")
    tenant.save()  # creates and migrates its schema
    Domain(domain=f"t{n}.localhost", tenant=tenant, is_primary=True).save()
