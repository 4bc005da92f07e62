"""Run the checks: turn databases and code into findings, never raising, always bounded.

The view, the management command and the system checks all call this module, so each of
them reports exactly the same findings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import DatabaseError, connections

from health_deep import acknowledge, backends, conf, dbguard, memo, routing, tenants
from health_deep.dbguard import failure_finding
from health_deep.findings import Finding
from health_deep.history import graph, integrity, ledger, sitecommand
from health_deep.routing import RouterError
from health_deep.schema import compare, expected
from health_deep.schema.model import Catalog, ExpectedTable

# The smoke check lives in its own module; the view, the command and the system checks reach
# every check through this one.
from health_deep.smoke.runner import (
    smoke_endpoints,
    smoke_findings,
    smoke_plan,
    smoke_problems,
)
from health_deep.tenants import migrations as tenant_migrations
from health_deep.tenants import schema as tenant_schema

__all__ = ["smoke_endpoints", "smoke_findings", "smoke_plan", "smoke_problems"]

logger = logging.getLogger("health_deep")


def aliases() -> list[str]:
    """The database aliases to check: ``HEALTH_DEEP['DATABASES']`` or every configured one."""
    chosen = conf.get().databases
    return list(settings.DATABASES) if chosen is None else list(chosen)


def _include_app(alias: str) -> Callable[[str], bool]:
    ignored = set(conf.get().ignore_apps)
    tenancy = tenants.get()

    def include(app: str) -> bool:
        if app in ignored or (tenancy is not None and tenancy.tenant_only(app, alias)):
            return False
        try:
            return bool(routing.ask("allow_migrate", alias, app))
        except LookupError:  # a router asking about an app that is no longer installed
            return True

    return include


def router_finding(alias: str, exc: RouterError) -> Finding:
    """A router that raises: health_deep cannot tell what lives where, and neither can Django."""
    cause = exc.__cause__ or exc
    logger.warning("health_deep: a database router raised in %s: %s", exc, type(cause).__name__)
    return Finding(
        id="health_deep.E004",
        alias=alias,
        object="DATABASE_ROUTERS",
        message=f"A database router raised {type(cause).__name__} in {exc}, so the checks on "
        f"'{alias}' could not decide which apps live there.",
        hint="Fix the router: Django calls the same method for every query and every migrate.",
        details={"error": type(cause).__name__, "detail": str(cause)[:500]},
    )


def deadline_finding(alias: str, check: str, deadline: float) -> Finding:
    """A check that gave no answer within the request deadline: unknown, so critical."""
    return Finding(
        id="health_deep.E003",
        alias=alias,
        object=alias or check,
        message=f"The {check} check gave no answer within the {deadline:g} s deadline.",
        hint="Its evaluation goes on in the background and the next probe gets its result; "
        "a slow database or a held lock is the usual cause.",
    )


def starting_finding(alias: str, check: str) -> Finding:
    """A check whose first evaluation in this process has not finished: not evaluated yet,
    which is not the same as unknown."""
    return Finding(
        id="health_deep.W005",
        alias=alias,
        object=alias or check,
        message=f"The {check} check is starting: its first evaluation in this process has not "
        "finished yet (the code facts it needs, then its queries); its verdict follows within "
        "seconds.",
        hint="/health/ready/ answers 503 until then. Running `manage.py migrate` or "
        "`manage.py health_deep` in the release keeps these facts for the next process.",
    )


def migration_facts(*, include_code: bool) -> None:
    """Work out what the migration check needs from the code (no database)."""
    graph.code_facts()
    if include_code and conf.get().check_missing_migrations:
        graph.missing_migrations()


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


def unknown_alias(alias: str) -> Finding:
    return Finding(
        id="health_deep.E001",
        alias=alias,
        object="HEALTH_DEEP['DATABASES']",
        message=f"Database alias '{alias}' is not in settings.DATABASES.",
        hint="Fix HEALTH_DEEP['DATABASES'].",
    )


def connection_findings(alias: str) -> list[Finding]:
    """Does ``alias`` answer ``SELECT 1`` within the statement timeout?"""
    if alias not in settings.DATABASES:
        return [unknown_alias(alias)]
    try:
        with dbguard.guarded(alias, timeout=conf.get().statement_timeout) as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return [failure_finding(alias, "connection", exc)]
    return []


def migration_findings(alias: str, *, complete: bool = False) -> list[Finding]:
    """Migration integrity on ``alias``: two queries (``django_migrations``, the ledger); on
    a schema-per-tenant site, the tenants' schemas too (``complete``: all of them now, not
    the next slice a probe reads)."""
    if alias not in settings.DATABASES:
        return [unknown_alias(alias)]
    try:
        facts = graph.code_facts()
    except Exception as exc:  # a broken migration file must not become a 500
        logger.exception("health_deep could not load the migration graph")
        return [_broken_code(alias, exc)]
    recorded: set[graph.Key] | None = None
    rows: dict[graph.Key, integrity.LedgerRow] | None = None
    findings: list[Finding] = []
    try:
        with dbguard.guarded(alias, timeout=conf.get().statement_timeout):
            recorded = ledger.read_recorded(alias)
            if ledger.LEDGER_MIGRATION in recorded and ledger.ledger_expected(alias):
                try:
                    rows = ledger.read_ledger(alias)
                except (TypeError, ValueError) as exc:  # a value no converter can read
                    findings.append(_ledger_unreadable(alias, exc))
    except DatabaseError as exc:
        kind = dbguard.classify(exc)
        if recorded is None and kind is dbguard.Failure.MISSING_TABLE:
            recorded = set()  # never migrated: every migration is unapplied
        elif recorded is None:
            return [failure_finding(alias, "migrations", exc)]
        elif kind is dbguard.Failure.TIMEOUT:  # locked: unknown, and unknown is critical
            findings.append(failure_finding(alias, "migrations", exc))
        elif kind is dbguard.Failure.MISSING_TABLE:
            findings.append(_ledger_missing(alias))
        else:
            findings.append(_ledger_unreadable(alias, exc))
    except RouterError as exc:
        return [router_finding(alias, exc)]
    tenancy = tenants.get()
    if tenancy is not None and tenancy.alias == alias:
        if rows is not None:
            # Tenant-only apps' migrations are fingerprinted in the shared schema's ledger
            # when migrate runs there; an edit to one is the code's, said once.
            shared_only = {k for k in recorded if tenancy.tenant_only(k[0], alias)}
            findings += integrity.edited(
                alias=alias, facts=facts, recorded=shared_only, ledger=rows
            )
        # In a transaction of its own: a tenant schema that cannot be read is not the ledger's.
        try:
            with dbguard.guarded(alias, timeout=conf.get().statement_timeout):
                findings += tenant_migrations.findings(tenancy, facts, complete=complete)
        except DatabaseError as exc:
            findings += _tenants_unread(alias, "migrations", exc)
    try:
        findings += integrity.evaluate(
            alias=alias,
            facts=facts,
            recorded=recorded,
            ledger=rows,
            include_app=_include_app(alias),
        )
    except RouterError as exc:
        return [router_finding(alias, exc)]
    return acknowledged(findings)


def _ledger_missing(alias: str) -> Finding:
    # The ledger's migration is recorded, so `migrate health_deep` alone applies nothing:
    # forget the record without touching the schema, then apply it again (which also adopts
    # every applied migration's fingerprint as the new baseline).
    return Finding(
        id="health_deep.W108",
        alias=alias,
        object="health_deep_ledger",
        message=f"The migration ledger table is missing on '{alias}', although its migration "
        "is recorded as applied, so edited migrations cannot be detected.",
        hint=f"Recreate it: `manage.py migrate health_deep zero --fake --database {alias}`, then "
        f"`manage.py migrate health_deep --database {alias}`.",
    )


def _ledger_unreadable(alias: str, exc: BaseException) -> Finding:
    return Finding(
        id="health_deep.W108",
        alias=alias,
        object="health_deep_ledger",
        message=f"The migration ledger on '{alias}' could not be read, so edited migrations "
        "cannot be detected.",
        hint="Check the table's permissions and column types against "
        "`manage.py sqlmigrate health_deep 0001`.",
        details={"error": type(exc).__name__, "detail": str(exc)[:500]},
    )


def _broken_code(
    alias: str,
    exc: BaseException,
    *,
    what: str = "migration graph",
    message: str = "The migration files could not be loaded.",
    hint: str = "Run `manage.py showmigrations` to see the error.",
) -> Finding:
    """``E004`` for code that could not be loaded or worked out (the error stays in details)."""
    return Finding(
        id="health_deep.E004",
        alias=alias,
        object=what,
        message=message,
        hint=hint,
        details={"error": type(exc).__name__, "detail": str(exc)[:500]},
    )


def code_findings() -> list[Finding]:
    """Findings about the code alone: model changes that have no migration."""
    if not conf.get().check_missing_migrations:
        return []
    try:
        changes = graph.missing_migrations()
    except sitecommand.Unavailable as exc:
        # Unknown, not "no change": said once per process, never as a warning the site
        # could only silence (the command is the site's own; W106 returns when it answers).
        return [
            Finding(
                id="health_deep.I111",
                alias="",
                object="makemigrations",
                message=f"Model changes without a migration were not looked for: {exc}.",
                hint="Run `manage.py makemigrations --check --dry-run` to see its verdict.",
            )
        ]
    except Exception as exc:
        logger.exception("health_deep could not run the migration autodetector")
        return [_broken_code("default", exc)]
    ignored = set(conf.get().ignore_apps)
    return acknowledged(
        [
            Finding(
                id="health_deep.W106",
                alias="",
                object=app,
                message=f"Models in '{app}' have changes that no migration records.",
                hint=f"Run `manage.py makemigrations {app}` and commit the migration.",
                details={"operations": operations},
            )
            for app, operations in changes.items()
            if app not in ignored
        ]
    )


def acknowledged(findings: list[Finding]) -> list[Finding]:
    """``findings`` with the warnings the site acknowledged shown as ``I006``."""
    rules = conf.get().acknowledge
    return acknowledge.apply(findings, rules) if rules else findings


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
        return [unknown_alias(alias)]
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
        return [router_finding(alias, exc)]
    except Exception as exc:  # a model that cannot describe itself must not become a 500
        logger.exception("health_deep could not compute the expected schema")
        return [
            _broken_code(
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
        return acknowledged(_compared(alias, tables, live))
    # Tenant tables left in the shared schema are W227, not among the I221 strays too.
    strays = tenant_schema.in_shared_schema(tenancy, live, tables)
    findings = _compared(alias, tables, live, strays=strays)
    if strays:
        findings.append(tenant_schema.shared_finding(tenancy, strays))
    try:  # in a transaction of its own: a tenant schema that cannot be read is not public's
        with dbguard.guarded(alias, timeout=conf.get().statement_timeout):
            findings += tenant_schema.findings(tenancy, complete=complete)
    except DatabaseError as exc:
        findings += _tenants_unread(alias, "schema", exc)
    return acknowledged(findings)


def _tenants_unread(alias: str, check: str, exc: DatabaseError) -> list[Finding]:
    """The tenants' schemas could not be read. Before the first migrate the tenants' own
    table is not there yet (migrate runs these checks first): there is no tenant to judge."""
    if dbguard.classify(exc) is dbguard.Failure.MISSING_TABLE:
        return []
    return [failure_finding(alias, check, exc)]


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


def migrations(alias_list: Iterable[str] | None = None) -> list[Finding]:
    """Every migration finding: each alias (every tenant schema), plus the code-only ones once."""
    findings: list[Finding] = []
    for alias in aliases() if alias_list is None else alias_list:
        findings += migration_findings(alias, complete=True)
    return findings + code_findings()


def schema(alias_list: Iterable[str] | None = None) -> list[Finding]:
    """Every schema drift finding, for each alias."""
    findings: list[Finding] = []
    for alias in aliases() if alias_list is None else alias_list:
        findings += schema_findings(alias, complete=True)
    return findings
