"""Schema-per-tenant sites (django-tenants): which apps live in the shared schema, which in
every tenant's schema.

Detected from the library's own settings (``SHARED_APPS``, ``TENANT_APPS``), so the default
install needs no setting of health_deep's. A tenant-only app's tables exist in each tenant's
schema and never in the shared one (``public``), where health_deep's own connections are: its
models are not judged there.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.conf import settings
from django.db import connections

from health_deep import memo
from health_deep.findings import Finding
from health_deep.history import integrity
from health_deep.history.graph import CodeFacts, Key

# Distinct migration states looked at in detail per probe; the schemas beyond are said so.
MAX_STATES = 50
# Schemas named in one finding's details.
MAX_NAMED = 100


@dataclasses.dataclass(frozen=True)
class Tenancy:
    library: str
    alias: str
    """The database alias whose schemas are per tenant."""
    shared: frozenset[str]
    """App labels migrated in the shared schema."""
    tenant: frozenset[str]
    """App labels migrated in each tenant's schema."""
    public: str = "public"
    model: str = ""
    """The tenant model's label: its rows name the tenants' schemas."""

    def tenant_only(self, app_label: str, alias: str) -> bool:
        """True when ``app_label``'s tables on ``alias`` are only in the tenants' schemas."""
        return alias == self.alias and app_label in self.tenant and app_label not in self.shared


def get() -> Tenancy | None:
    """The site's tenancy, or None on an ordinary site (read once per process)."""
    return memo.cached("smoke:tenancy", _detect)


def _detect() -> Tenancy | None:
    if "django_tenants" not in settings.INSTALLED_APPS or not hasattr(settings, "TENANT_APPS"):
        return None
    from django_tenants.utils import get_public_schema_name, get_tenant_database_alias

    return Tenancy(
        library="django-tenants",
        alias=get_tenant_database_alias(),
        shared=_labels(getattr(settings, "SHARED_APPS", ())),
        tenant=_labels(getattr(settings, "TENANT_APPS", ())),
        public=get_public_schema_name(),
        model=str(getattr(settings, "TENANT_MODEL", "")),
    )


def _labels(names: Any) -> frozenset[str]:
    """App labels of ``names``, given (as django-tenants accepts them) as app module names or
    AppConfig paths."""
    from django.apps import apps

    wanted = set(names)
    return frozenset(
        config.label
        for config in apps.get_app_configs()
        if config.name in wanted or f"{type(config).__module__}.{type(config).__name__}" in wanted
    )


def schemas(tenancy: Tenancy) -> list[str]:
    """The tenants' schemas, from the tenant model's rows (the shared one left out)."""
    from django.apps import apps

    model = apps.get_model(tenancy.model)
    names = model._base_manager.using(tenancy.alias).values_list("schema_name", flat=True)
    return sorted({str(n) for n in names} - {tenancy.public})


def migration_findings(tenancy: Tenancy, facts: CodeFacts) -> list[Finding]:
    """Each tenant schema's applied migrations of the tenant apps against the code, in four
    statements whatever the number of schemas: schemas in one state share one verdict.
    Runs inside the caller's guarded transaction on ``tenancy.alias``."""
    from health_deep.backends.postgresql import tenants as sql

    connection = connections[tenancy.alias]
    quote = connection.ops.quote_name
    apps = sorted(tenancy.tenant - tenancy.shared)
    every = schemas(tenancy)
    if not every or not apps:
        return []
    with connection.cursor() as cursor:
        migrated = sql.migrated_schemas(cursor, every)
        present = [s for s in every if s in migrated]
        by_digest: dict[str, list[str]] = {}
        for schema, digest in sql.digests(cursor, quote, present, apps).items():
            by_digest.setdefault(digest, []).append(schema)
        states = sorted(by_digest.values(), key=len, reverse=True)
        looked = states[:MAX_STATES]
        rows = sql.applied(cursor, quote, [group[0] for group in looked], apps)
    findings: list[Finding] = []
    missing = [s for s in every if s not in migrated]
    if missing:
        findings.append(_missing(tenancy, missing, len(every)))
    for group in looked:
        findings += _judged(tenancy, facts, group, rows[group[0]], len(every))
    return findings


def _judged(
    tenancy: Tenancy, facts: CodeFacts, group: list[str], recorded: set[Key], of: int
) -> list[Finding]:
    inner = integrity.evaluate(
        alias=tenancy.alias,
        facts=facts,
        recorded=recorded,
        ledger=None,
        include_app=lambda app: tenancy.tenant_only(app, tenancy.alias),
    )
    named = _named(group)
    details = {"schemas": group[:MAX_NAMED], "broken": len(group), "tenants": of}
    found = []
    for inner_id, fid, key, what, hint in _VERDICTS:
        names = [f.object for f in inner if f.id == inner_id]
        if names:
            found.append(
                Finding(
                    id=fid,
                    alias=tenancy.alias,
                    object=f"tenant schema(s) {named}",
                    message=f"{len(group)} of {of} tenant schema(s) ({named}) "
                    f"{what.format(n=len(names))}: {', '.join(names[:5])}.",
                    hint=hint,
                    details={**details, key: names},
                )
            )
    return found


# The shared-schema finding, the tenant one it becomes, its details key, what it says, the hint.
_VERDICTS = (
    (
        "health_deep.E101",
        "health_deep.E112",
        "unapplied",
        "lack {n} migration(s)",
        "Run `manage.py migrate_schemas` (django-tenants) and read where it stopped.",
    ),
    (
        "health_deep.W102",
        "health_deep.W113",
        "unknown",
        "record {n} migration(s) the code does not have",
        "A newer release migrated them, or a migration file was removed.",
    ),
)


def _missing(tenancy: Tenancy, missing: list[str], of: int) -> Finding:
    named = _named(missing)
    return Finding(
        id="health_deep.E114",
        alias=tenancy.alias,
        object=f"tenant schema(s) {named}",
        message=f"{len(missing)} of {of} tenant(s) have no migrated schema ({named}).",
        hint="Create and migrate it (`manage.py migrate_schemas --schema NAME`), or remove "
        "the tenant.",
        details={"schemas": missing[:MAX_NAMED], "broken": len(missing), "tenants": of},
    )


def _named(schemas: list[str]) -> str:
    shown = ", ".join(schemas[:3])
    return shown + (f" and {len(schemas) - 3} more" if len(schemas) > 3 else "")
