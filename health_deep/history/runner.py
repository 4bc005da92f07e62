"""The migration check as the site runs it: the code's migration facts (kept per process),
each database's ``django_migrations`` and ledger read under the guard, the tenants' schemas on a
schema-per-tenant site, and the models' changes no migration records."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import DatabaseError

from health_deep import conf, dbguard, outcomes, routing, tenants
from health_deep.dbguard import failure_finding
from health_deep.findings import Finding
from health_deep.history import graph, integrity, ledger, sitecommand
from health_deep.routing import RouterError
from health_deep.tenants import migrations as tenant_migrations

logger = logging.getLogger("health_deep")


def include_app(alias: str) -> Callable[[str], bool]:
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


def migration_facts(*, include_code: bool) -> None:
    """Work out what the migration check needs from the code (no database)."""
    graph.code_facts()
    if include_code and conf.get().check_missing_migrations:
        graph.missing_migrations()


def migration_findings(alias: str, *, complete: bool = False) -> list[Finding]:
    """Migration integrity on ``alias``: two queries (``django_migrations``, the ledger); on
    a schema-per-tenant site, the tenants' schemas too (``complete``: all of them now, not
    the next slice a probe reads)."""
    if alias not in settings.DATABASES:
        return [outcomes.unknown_alias(alias)]
    try:
        facts = graph.code_facts()
    except Exception as exc:  # a broken migration file must not become a 500
        logger.exception("health_deep could not load the migration graph")
        return [outcomes.broken_code(alias, exc)]
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
        return [outcomes.router_finding(alias, exc)]
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
            findings += outcomes.tenants_unread(alias, "migrations", exc)
    try:
        findings += integrity.evaluate(
            alias=alias,
            facts=facts,
            recorded=recorded,
            ledger=rows,
            include_app=include_app(alias),
        )
    except RouterError as exc:
        return [outcomes.router_finding(alias, exc)]
    return outcomes.acknowledged(findings)


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
        return [outcomes.broken_code("default", exc)]
    ignored = set(conf.get().ignore_apps)
    return outcomes.acknowledged(
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


def migrations(alias_list: Iterable[str] | None = None) -> list[Finding]:
    """Every migration finding: each alias (every tenant schema), plus the code-only ones once."""
    findings: list[Finding] = []
    for alias in conf.aliases() if alias_list is None else alias_list:
        findings += migration_findings(alias, complete=True)
    return findings + code_findings()
