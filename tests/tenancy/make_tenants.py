"""``python -m tests.tenancy.make_tenants N``: the public tenant and N tenants t1..tN, each
with its schema created and migrated by django-tenants, and a primary domain.

:func:`clone` adds many more in seconds, for the cost measurements: copies of t1's schema
(its tables, keys, indexes and ``django_migrations`` rows) made with SQL from ``pg_dump``,
each with a tenant row and a domain, as ``migrate_schemas`` would have left them.
"""

from __future__ import annotations

import os
import subprocess
import sys


def _client_env() -> dict[str, str]:
    return {
        **os.environ,
        "PGHOST": os.environ.get("PGHOST", "127.0.0.1"),
        "PGPORT": os.environ.get("PGPORT", "5432"),
        "PGUSER": os.environ.get("PGUSER", "postgres"),
    }


def clone(database: str, first: int, last: int, *, batch: int = 50) -> None:
    """Tenants t<first>..t<last>, copies of t1 (which make_tenants made)."""
    env = _client_env()
    ddl = subprocess.run(
        ["pg_dump", "--schema-only", "--no-owner", "--no-privileges", "--schema=t1", database],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # pg_dump empties the search path and names every object t1.something.
    body = "\n".join(
        line for line in ddl.splitlines() if not line.startswith(("SET ", "SELECT pg_catalog"))
    )
    for start in range(first, last + 1, batch):
        parts = []
        for n in range(start, min(last, start + batch - 1) + 1):
            parts.append(body.replace("t1.", f"t{n}.").replace("SCHEMA t1;", f"SCHEMA t{n};"))
            parts.append(
                f"INSERT INTO t{n}.django_migrations SELECT * FROM t1.django_migrations;"
                f"INSERT INTO public.customers_client (schema_name, name) "
                f"VALUES ('t{n}', 'tenant {n}');"
                f"INSERT INTO public.customers_domain (domain, tenant_id, is_primary) "
                f"SELECT 't{n}.localhost', id, true FROM public.customers_client "
                f"WHERE schema_name = 't{n}';"
            )
        subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-d", database],
            input="\n".join(parts),
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )


if __name__ == "__main__":
    import django

    django.setup()

    from tests.tenancy.customers.models import Client, Domain

    public = Client(schema_name="public", name="public")
    public.save()
    Domain(domain="public.localhost", tenant=public, is_primary=True).save()
    for n in range(1, int(sys.argv[1]) + 1):
        tenant = Client(schema_name=f"t{n}", name=f"tenant {n}")
        tenant.save()  # creates and migrates its schema
        Domain(domain=f"t{n}.localhost", tenant=tenant, is_primary=True).save()
