"""django-pgschemas, read from its ``TENANTS`` setting: ``public`` holds the shared apps;
``default`` describes the dynamic tenants (one schema per row of its ``TENANT_MODEL``, and
the ``CLONE_REFERENCE`` schema they are cloned from); every other key is a static tenant with
a schema of that name and apps of its own."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from health_deep.tenants.base import Kind, Library, Tenancy, labels

_RESERVED = ("public", "default")


class PgSchemas(Library):
    name = "django-pgschemas"

    def list_schemas(self, tenancy: Tenancy) -> dict[str, Kind]:
        from django_pgschemas.utils import get_tenant_model

        found = super().list_schemas(tenancy)
        dynamic = tenancy.kind("default")
        model: Any = get_tenant_model()
        if dynamic is not None and model is not None:
            rows = model._base_manager.using(tenancy.alias).values_list("schema_name", flat=True)
            found.update({str(schema): dynamic for schema in rows})
        return found

    def primary_domains(self, tenancy: Tenancy, schemas: list[str]) -> dict[str, str]:
        from django_pgschemas.utils import get_domain_model

        found = {
            name: str(config["DOMAINS"][0])
            for name, config in getattr(settings, "TENANTS", {}).items()
            if name in schemas and config.get("DOMAINS")
        }
        model: Any = get_domain_model()
        if model is not None:
            rows = model._base_manager.using(tenancy.alias).filter(
                tenant__schema_name__in=schemas, is_primary=True
            )
            found.update(
                {str(s): str(d) for s, d in rows.values_list("tenant__schema_name", "domain")}
            )
        return found

    def activate(self, tenancy: Tenancy, schema: str, kind: Kind) -> Any:
        from django_pgschemas.schema import Schema, override

        return override(Schema.create(schema_name=schema))


def detect() -> Tenancy | None:
    """The site's tenancy as django-pgschemas is configured, or None when it is not."""
    from django_pgschemas.utils import get_clone_reference, get_tenant_database_alias

    tenants = getattr(settings, "TENANTS", None)
    if not isinstance(tenants, dict) or not isinstance(tenants.get("public"), dict):
        return None
    kinds = [
        Kind(
            name=name,
            apps=labels(config.get("APPS", ())),
            urlconf=config.get("URLCONF"),
            fixed=(name,),
            dynamic=False,
        )
        for name, config in tenants.items()
        if name not in _RESERVED and isinstance(config, dict)
    ]
    default = tenants.get("default")
    if isinstance(default, dict):
        reference = get_clone_reference()
        kinds.append(
            Kind(
                name="default",
                apps=labels(default.get("APPS", ())),
                urlconf=default.get("URLCONF"),
                fixed=(reference,) if reference else (),
            )
        )
    return Tenancy(
        library=PgSchemas(),
        alias=get_tenant_database_alias(),
        shared=labels(tenants["public"].get("APPS", ())),
        kinds=tuple(kinds),
        public="public",
        shared_urlconf=getattr(settings, "ROOT_URLCONF", None),
        extra_search_path=tuple(getattr(settings, "PGSCHEMAS_EXTRA_SEARCH_PATHS", ())),
    )
