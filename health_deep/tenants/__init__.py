"""Schema-per-tenant sites: which apps live in the shared schema, which in each tenant's, how
the tenants' schemas are listed and how health_deep acts inside one.

Detected from the tenancy library's own settings, so the default install needs no setting of
health_deep's: django-tenants (``SHARED_APPS``/``TENANT_APPS``, or ``TENANT_TYPES`` with
multi-type tenants) and django-pgschemas (``TENANTS``). Any other schema-per-tenant scheme is
described by ``HEALTH_DEEP['TENANTS']`` (:mod:`health_deep.tenants.custom`).

A *kind* is a set of schemas that hold the same apps: django-tenants' tenants (one kind, or one
per tenant type), django-pgschemas' dynamic tenants and each of its static tenants. Tenant-only
apps' tables exist in each tenant's schema and never in the shared one, where health_deep's own
connections are: they are judged per tenant schema (:mod:`.migrations`, :mod:`.schema`,
:mod:`.smoke`), never in the shared one.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings

from health_deep import memo
from health_deep.findings import Finding


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


def get() -> Tenancy | None:
    """The site's tenancy, or None on an ordinary site (read once per process)."""
    return memo.cached("tenants:tenancy", _detect)


def _detect() -> Tenancy | None:
    from health_deep import conf

    if conf.get().tenants:
        from health_deep.tenants import custom

        return custom.detect(conf.get().tenants)
    installed = set(settings.INSTALLED_APPS)
    if "django_tenants" in installed:
        from health_deep.tenants import django_tenants

        return django_tenants.detect()
    if "django_pgschemas" in installed:
        from health_deep.tenants import pgschemas

        return pgschemas.detect()
    return None


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


def schemas(tenancy: Tenancy) -> dict[str, Kind]:
    """Every tenant schema and its kind (the shared one left out), sorted by name. Reads the
    tenant rows: the caller holds a guarded transaction on ``tenancy.alias``."""
    found = tenancy.library.list_schemas(tenancy)
    found.pop(tenancy.public, None)
    return dict(sorted(found.items()))


def primary_domains(tenancy: Tenancy, names: list[str]) -> dict[str, str]:
    """The primary domain of each of ``names`` where the library records one (one statement,
    only asked for the schemas a finding names)."""
    if not names:
        return {}
    return tenancy.library.primary_domains(tenancy, names)


@contextlib.contextmanager
def inside(tenancy: Tenancy, schema: str, kind: Kind) -> Iterator[None]:
    """Make the library (its router, its connection's search path) see ``schema`` in this
    thread for the block, as a request routed to that tenant would."""
    with tenancy.library.activate(tenancy, schema, kind):
        yield


def request_schema(request: Any) -> str | None:
    """The tenant schema a request was routed to by the library's middleware (``request.tenant``,
    as both django-tenants and django-pgschemas set it), when it answers for that tenant
    alone; None when it answers for the whole site: the shared schema's host, a static
    tenant's (django-pgschemas' ``www``, say: the site's own), an ordinary site."""
    tenancy = get()
    tenant = getattr(request, "tenant", None)
    schema = getattr(tenant, "schema_name", None)
    if tenancy is None or not isinstance(schema, str) or schema == tenancy.public:
        return None
    if any(schema in kind.fixed and not kind.dynamic for kind in tenancy.kinds):
        return None
    return schema


def named(schemas: list[str], domains: dict[str, str] | None = None) -> str:
    """A few schemas for a message ('t2 (acme.example.com), t7 and 3 more')."""
    domains = domains or {}
    shown = ", ".join(f"{s} ({domains[s]})" if s in domains else s for s in schemas[:3])
    return shown + (f" and {len(schemas) - 3} more" if len(schemas) > 3 else "")


def about(schemas: list[str], of: int, domains: dict[str, str] | None = None) -> dict[str, object]:
    """What every tenant finding carries in its details: all the schemas it is about (a
    tenant's host keeps its own: :mod:`.scope`), how many, of how many tenants, and the
    primary domains known."""
    domains = domains or {}
    return {
        "schemas": schemas,
        "broken": len(schemas),
        "tenants": of,
        "domains": {s: domains[s] for s in schemas if s in domains},
    }


def finding(
    fid: str,
    tenancy: Tenancy,
    schemas: list[str],
    *,
    of: int,
    says: str,
    hint: str,
    domains: dict[str, str] | None = None,
    endpoints: tuple[str, ...] = (),
    details: dict[str, object] | None = None,
) -> Finding:
    """A finding about some tenants' schemas: named (with their domains), counted of all the
    tenants, every schema in its details (:func:`about`)."""
    shown = named(schemas, domains)
    return Finding(
        id=fid,
        alias=tenancy.alias,
        object=f"tenant schema(s) {shown}",
        message=f"{shown}: {len(schemas)} of {of} tenant schema(s) {says}",
        hint=hint,
        endpoints=endpoints,
        details={**about(schemas, of, domains), **(details or {})},
    )


def not_yet(
    fid: str, tenancy: Tenancy, unknown: list[str], *, of: int, done: str, per: int
) -> Finding:
    """An informational finding: ``unknown`` tenant schemas were not ``done`` yet in this
    process (probes take ``per`` at a time, in turn; the command takes them all)."""
    return Finding(
        id=fid,
        alias=tenancy.alias,
        object=f"{len(unknown)} tenant schema(s)",
        message=f"{len(unknown)} of {of} tenant schema(s) were not {done} yet in this process: "
        f"probes take {per} at a time, in turn.",
        hint="`manage.py health_deep` takes them all at once.",
        details={"schemas": unknown[:100], "tenants": of},
    )
