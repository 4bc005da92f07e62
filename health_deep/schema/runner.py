"""The schema check as the site runs it: the schema the models need (kept per process), each
database's catalog read under the guard and compared with it, the tenants' schemas on a
schema-per-tenant site."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import DatabaseError, connections

from health_deep import backends, conf, dbguard, memo, outcomes, tenants
from health_deep.dbguard import failure_finding
from health_deep.findings import Finding
from health_deep.routing import RouterError
from health_deep.schema import compare, expected
from health_deep.schema.model import Catalog, ExpectedTable
from health_deep.tenants import schema as tenant_schema

logger = logging.getLogger("health_deep")


def schema_facts(alias: str) -> None:
    """Work out the expected schema of ``alias`` where that needs no database."""
    if alias not in settings.DATABASES:
        return
    backend = backends.get(connections[alias].vendor)
    if backends.supports_schema(backend.vendor) and not backend.features.types_need_server:
        expected_schema(alias)
        tenancy = tenants.get()
        if tenancy is not None and tenancy.alias == alias:
            for kind in tenancy.kinds:
                tenant_schema.expected_tables(tenancy, kind)


def _ignored_tables() -> set[str]:
    """Tables Django itself owns without a model: migration records and database caches."""
    tables = {"django_migrations"}
    for cache in getattr(settings, "CACHES", {}).values():
        if str(cache.get("BACKEND", "")).endswith("DatabaseCache") and cache.get("LOCATION"):
            tables.add(str(cache["LOCATION"]))
    return tables


def expected_schema(alias: str) -> list[ExpectedTable]:
    """The tables the models need on ``alias``: code only, computed once per process."""
    ignore = conf.get().ignore_apps
    tenancy = tenants.get()
    # On a schema-per-tenant site, tenant-only apps' tables are never in the shared schema,
    # whatever the site's routers say (a scheme described in HEALTH_DEEP may have none).
    left_out = (
        [*ignore, *(a for a in tenancy.tenant if tenancy.tenant_only(a, alias))]
        if tenancy
        else ignore
    )
    tables: list[ExpectedTable] = memo.cached(
        f"schema:{alias}:{','.join(ignore)}",
        lambda: expected.expected_tables(alias, ignore_apps=left_out),
    )
    return tables


def schema_findings(alias: str, *, complete: bool = False) -> list[Finding]:
    """Schema drift on ``alias``: one catalog query, compared with the models' needs; on a
    schema-per-tenant site, the tenants' schemas too (``complete``: all of them now)."""
    if alias not in settings.DATABASES:
        return [outcomes.unknown_alias(alias)]
    vendor = connections[alias].vendor
    if not backends.supports_schema(vendor):
        return [
            Finding(
                id="health_deep.I223",
                alias=alias,
                object=alias,
                message=f"The schema check does not support {vendor} yet.",
                hint="Migration integrity is still checked on this database.",
            )
        ]
    try:
        tables = expected_schema(alias)
    except DatabaseError as exc:  # MySQL asks the server's version to state column types
        return [failure_finding(alias, "schema", exc)]
    except RouterError as exc:
        return [outcomes.router_finding(alias, exc)]
    except Exception as exc:  # a model that cannot describe itself must not become a 500
        logger.exception("health_deep could not compute the expected schema")
        return [
            outcomes.broken_code(
                alias,
                exc,
                what="models",
                message="The schema the models need could not be worked out.",
                hint="Run `manage.py check` to see the error; it is logged too.",
            )
        ]
    try:
        with dbguard.guarded(alias, timeout=conf.get().statement_timeout) as cursor:
            live = backends.get(vendor).read_catalog(cursor, expected=tables)
    except DatabaseError as exc:
        return [failure_finding(alias, "schema", exc)]
    tenancy = tenants.get()
    if tenancy is None or tenancy.alias != alias:
        return outcomes.acknowledged(_compared(alias, tables, live))
    # Tenant tables left in the shared schema are W227, not among the I221 strays too.
    strays = tenant_schema.in_shared_schema(tenancy, live, tables)
    findings = _compared(alias, tables, live, strays=strays)
    if strays:
        findings.append(tenant_schema.shared_finding(tenancy, strays))
    try:  # in a transaction of its own: a tenant schema that cannot be read is not public's
        with dbguard.guarded(alias, timeout=conf.get().statement_timeout):
            findings += tenant_schema.findings(tenancy, complete=complete)
    except DatabaseError as exc:
        findings += outcomes.tenants_unread(alias, "schema", exc)
    return outcomes.acknowledged(findings)


def _compared(
    alias: str, tables: list[ExpectedTable], live: Catalog, *, strays: Iterable[str] = ()
) -> list[Finding]:
    # The catalog readers hand back the same object while the schema is unchanged, and the
    # expected schema is per process: then the comparison is the same too.
    ignored = frozenset(_ignored_tables()) | frozenset(strays)
    last_comparison = memo.record("schema:last-comparison")
    last = last_comparison.get(alias)
    if last is not None and last[0] is live and last[1] is tables and last[2] == ignored:
        return list(last[3])
    findings = compare.compare(alias=alias, expected=tables, catalog=live, ignore_tables=ignored)
    last_comparison[alias] = (live, tables, ignored, tuple(findings))
    return findings


def schema(alias_list: Iterable[str] | None = None) -> list[Finding]:
    """Every schema drift finding, for each alias."""
    findings: list[Finding] = []
    for alias in conf.aliases() if alias_list is None else alias_list:
        findings += schema_findings(alias, complete=True)
    return findings
