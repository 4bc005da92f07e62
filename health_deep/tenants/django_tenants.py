"""django-tenants, read from its own settings: ``SHARED_APPS``/``TENANT_APPS`` (one kind of
tenant schema), or ``TENANT_TYPES`` when ``HAS_MULTI_TYPE_TENANTS`` (one kind per type, the
tenant model's type field saying which). Template schemas (``TENANT_BASE_SCHEMA``, a type's
``BASE_SCHEMA``) are migrated like tenants and cloned into new ones: they are judged too."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connections

from health_deep.tenants.base import Kind, Library, Tenancy, labels


class DjangoTenants(Library):
    name = "django-tenants"

    def __init__(self, *, type_field: str = "") -> None:
        self.type_field = type_field

    def list_schemas(self, tenancy: Tenancy) -> dict[str, Kind]:
        from django_tenants.utils import get_tenant_model

        found = super().list_schemas(tenancy)
        rows = get_tenant_model()._base_manager.using(tenancy.alias)
        if not self.type_field:
            [kind] = tenancy.kinds
            found.update({str(s): kind for s in rows.values_list("schema_name", flat=True)})
            return found
        for schema, kind_name in rows.values_list("schema_name", self.type_field):
            typed = tenancy.kind(str(kind_name))
            if typed is not None:  # a type no longer configured: nothing to judge it against
                found[str(schema)] = typed
        return found

    def primary_domains(self, tenancy: Tenancy, schemas: list[str]) -> dict[str, str]:
        from django_tenants.utils import get_tenant_domain_model

        domains = get_tenant_domain_model()._base_manager.using(tenancy.alias)
        primary = domains.filter(tenant__schema_name__in=schemas, is_primary=True)
        return {str(s): str(d) for s, d in primary.values_list("tenant__schema_name", "domain")}

    def activate(self, tenancy: Tenancy, schema: str, kind: Kind) -> Any:
        return _SchemaOf(tenancy.alias, schema, kind.name or None)


class _SchemaOf:
    """``connection.set_schema`` for the block, as django-tenants' ``schema_context`` does,
    with the tenant type its router needs for multi-type tenants; the previous tenant after."""

    def __init__(self, alias: str, schema: str, tenant_type: str | None) -> None:
        self.connection: Any = connections[alias]  # django-tenants' DatabaseWrapper
        self.schema, self.tenant_type = schema, tenant_type

    def __enter__(self) -> None:
        self.previous = getattr(self.connection, "tenant", None)
        self.connection.set_schema(self.schema, tenant_type=self.tenant_type)

    def __exit__(self, *exc: object) -> None:
        if self.previous is None:
            self.connection.set_schema_to_public()
        else:
            self.connection.set_tenant(self.previous)


def detect() -> Tenancy | None:
    """The site's tenancy as django-tenants is configured, or None when it is not."""
    from django_tenants import utils

    public = utils.get_public_schema_name()
    if utils.has_multi_type_tenants():
        types = utils.get_tenant_types()
        if public not in types:
            return None
        bases = utils.get_type_base_schemas()
        fallback = getattr(settings, "TENANT_BASE_SCHEMA", "") or ""
        kinds = tuple(
            Kind(
                name=name,
                apps=labels(config.get("APPS", ())),
                urlconf=config.get("URLCONF"),
                fixed=tuple(s for s in [bases.get(name, fallback)] if s),
            )
            for name, config in types.items()
            if name != public
        )
        shared = labels(types[public].get("APPS", ()))
        shared_urlconf = types[public].get("URLCONF")
        library = DjangoTenants(type_field=utils.get_multi_type_database_field_name())
    elif hasattr(settings, "TENANT_APPS"):
        base = getattr(settings, "TENANT_BASE_SCHEMA", "") or ""
        kinds = (
            Kind(
                name="",
                apps=labels(getattr(settings, "TENANT_APPS", ())),
                urlconf=settings.ROOT_URLCONF,
                fixed=(base,) if base else (),
            ),
        )
        shared = labels(getattr(settings, "SHARED_APPS", ()))
        shared_urlconf = getattr(settings, "PUBLIC_SCHEMA_URLCONF", None)
        library = DjangoTenants()
    else:
        return None
    return Tenancy(
        library=library,
        alias=utils.get_tenant_database_alias(),
        shared=shared,
        kinds=kinds,
        public=public,
        shared_urlconf=shared_urlconf,
        extra_search_path=tuple(getattr(settings, "PG_EXTRA_SEARCH_PATHS", ())),
    )
