"""``python -m tests.tenancy.make_typed``: the public tenant, shop tenants s1 and s2 and blog
tenants b1 and b2 of the typed site (``tests.settings_tenants_types``), each schema created
and migrated by django-tenants with its type's apps, and a primary domain."""

from __future__ import annotations

TENANTS = {"s1": "shop", "s2": "shop", "b1": "blog", "b2": "blog"}

if __name__ == "__main__":
    import django

    django.setup()

    from tests.tenancy.typed.models import Address, Shop

    for schema, kind in {"public": "public", **TENANTS}.items():
        tenant = Shop(schema_name=schema, name=schema, kind=kind)
        tenant.save()  # creates and migrates its schema, with its type's apps
        Address(domain=f"{schema}.localhost", tenant=tenant, is_primary=True).save()
