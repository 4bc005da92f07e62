"""Any other schema-per-tenant scheme, described by ``HEALTH_DEEP['TENANTS']``::

    HEALTH_DEEP = {
        "TENANTS": {
            "APPS": ["billing", "notes"],       # apps migrated in every tenant's schema
            "SCHEMAS": "myproject.tenancy.schema_names",  # a callable: the schemas' names
            # or "SCHEMAS_SQL": "SELECT schema_name FROM myproject_tenant",
            # optional: "SHARED_APPS" (default: every other installed app), "DATABASE"
            # ("default"), "SHARED_SCHEMA" ("public"), "EXTRA_SEARCH_PATH" ([]).
        }
    }

The schemas are listed inside the checks' read-only transaction. Requests routed to a tenant
are recognised by ``request.tenant.schema_name``, as the tenancy libraries set it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.apps import apps
from django.db import connections
from django.utils.module_loading import import_string

from health_deep import backends
from health_deep.tenants.base import Kind, Library, Tenancy, labels


def unresolved(value: Mapping[str, Any]) -> list[str]:
    """What in a valid ``TENANTS`` value does not exist on this site: apps that are not
    installed, a database alias not configured, a callable that does not import."""
    from django.conf import settings

    found = []
    for key in ("APPS", "SHARED_APPS"):
        missing = set(value.get(key, ())) - _installed_names()
        if missing:
            found.append(
                f"HEALTH_DEEP['TENANTS'][{key!r}] names apps that are not installed: "
                + ", ".join(sorted(missing))
            )
    alias = value.get("DATABASE", "default")
    if alias not in settings.DATABASES:
        found.append("HEALTH_DEEP['TENANTS']['DATABASE'] is not in settings.DATABASES")
    elif not backends.get(connections[alias].vendor).features.supports_schemas:
        found.append(
            f"HEALTH_DEEP['TENANTS']: database '{alias}' has no schemas (PostgreSQL has): "
            "tenants are not checked"
        )
    if isinstance(value.get("SCHEMAS"), str):
        try:
            import_string(value["SCHEMAS"])
        except ImportError as exc:
            found.append(f"HEALTH_DEEP['TENANTS']['SCHEMAS'] cannot be imported: {exc}")
    return found


def _installed_names() -> set[str]:
    return {n for c in apps.get_app_configs() for n in (c.name, c.label)}


class Described(Library):
    name = "HEALTH_DEEP['TENANTS']"

    def __init__(self, *, schemas: str | Callable[[], Iterable[str]] | None, sql: str | None):
        self.schemas, self.sql = schemas, sql

    def list_schemas(self, tenancy: Tenancy) -> dict[str, Kind]:
        [kind] = tenancy.kinds
        if self.sql is not None:
            with connections[tenancy.alias].cursor() as cursor:
                cursor.execute(self.sql)
                names: Iterable[Any] = [row[0] for row in cursor.fetchall()]
        else:
            made = import_string(self.schemas) if isinstance(self.schemas, str) else self.schemas
            assert made is not None
            names = made()
        return {str(name): kind for name in names if name}


def detect(value: Mapping[str, Any]) -> Tenancy | None:
    alias = str(value.get("DATABASE", "default"))
    if unresolved(value):  # the configuration system check says why
        return None
    tenant = labels(value["APPS"])
    if "SHARED_APPS" in value:
        shared = labels(value["SHARED_APPS"])
    else:
        shared = frozenset(c.label for c in apps.get_app_configs()) - tenant
    return Tenancy(
        library=Described(schemas=value.get("SCHEMAS"), sql=value.get("SCHEMAS_SQL")),
        alias=alias,
        shared=shared,
        kinds=(Kind(name="", apps=tenant),),
        public=str(value.get("SHARED_SCHEMA", "public")),
        extra_search_path=tuple(value.get("EXTRA_SEARCH_PATH", ())),
    )
