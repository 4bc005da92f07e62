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
from collections.abc import Iterator
from typing import Any

from django.conf import settings

from health_deep import memo
from health_deep.findings import Finding
from health_deep.tenants.base import Kind, Library, Tenancy, labels

__all__ = [
    "Kind",
    "Library",
    "Tenancy",
    "about",
    "finding",
    "get",
    "inside",
    "labels",
    "named",
    "not_yet",
    "primary_domains",
    "request_schema",
    "schemas",
]


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
