"""What a schema-per-tenant site is made of (:class:`Tenancy`, its kinds of schemas) and what
a tenancy library tells of it (:class:`Library`): the contract each library's module
(``django_tenants``, ``pgschemas``, ``custom``) fills in."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable
from typing import Any


@dataclasses.dataclass(frozen=True)
class Kind:
    """Schemas that hold the same apps."""

    name: str
    """'' for django-tenants' tenants; the tenant type; django-pgschemas' static tenant."""
    apps: frozenset[str]
    """App labels migrated in each schema of this kind."""
    urlconf: str | None = None
    """The URLconf requests routed to this kind's schemas use."""
    fixed: tuple[str, ...] = ()
    """Schemas of this kind whatever the tenant rows say: static tenants, template schemas."""
    dynamic: bool = True
    """Its schemas are also the tenant model's rows (of this kind)."""


class Library:
    """How one tenancy library lists the tenants' schemas and acts inside one. The base knows
    nothing: each library's module overrides what it can tell."""

    name = ""

    def list_schemas(self, tenancy: Tenancy) -> dict[str, Kind]:
        """Every tenant schema and its kind (reads the tenant rows)."""
        return {schema: kind for kind in tenancy.kinds for schema in kind.fixed}

    def primary_domains(self, tenancy: Tenancy, schemas: list[str]) -> dict[str, str]:
        """The primary domain of each of ``schemas`` the library records."""
        return {}

    def activate(self, tenancy: Tenancy, schema: str, kind: Kind) -> Any:
        """A context manager in which the library's router and connection (this thread's)
        see ``schema``."""
        return contextlib.nullcontext()


@dataclasses.dataclass(frozen=True)
class Tenancy:
    library: Library = dataclasses.field(compare=False)
    alias: str
    """The database alias whose schemas are per tenant."""
    shared: frozenset[str]
    """App labels migrated in the shared schema."""
    kinds: tuple[Kind, ...]
    public: str = "public"
    shared_urlconf: str | None = None
    extra_search_path: tuple[str, ...] = ()
    """Schemas the library puts on the search path after the tenant's and the shared one."""

    @property
    def tenant(self) -> frozenset[str]:
        """Every app label migrated in some tenant schema."""
        return frozenset().union(*(k.apps for k in self.kinds))

    def tenant_only(self, app_label: str, alias: str) -> bool:
        """True when ``app_label``'s tables on ``alias`` are only in the tenants' schemas."""
        return alias == self.alias and app_label not in self.shared and app_label in self.tenant

    def kind(self, name: str) -> Kind | None:
        return next((k for k in self.kinds if k.name == name), None)

    def search_path(self, schema: str) -> list[str]:
        """The search path a request routed to ``schema`` gets from the library."""
        return list(dict.fromkeys([schema, self.public, *self.extra_search_path]))


def labels(names: Iterable[str]) -> frozenset[str]:
    """App labels of ``names``, given (as the tenancy libraries accept them) as app module
    names, AppConfig paths or labels."""
    from django.apps import apps

    wanted = set(names)
    return frozenset(
        config.label
        for config in apps.get_app_configs()
        if config.name in wanted
        or config.label in wanted
        or f"{type(config).__module__}.{type(config).__name__}" in wanted
    )
