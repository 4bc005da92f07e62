"""The same findings as Django system checks.

Findings that need a database are tagged ``Tags.database``, so they run only with
``manage.py check --database ALIAS``. They are Warnings at most: an Error would stop
``migrate`` itself from running, which is the very command that fixes most of them.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Sequence
from typing import Any

from django.core import checks
from django.utils.module_loading import import_string

from health_deep import conf, runner
from health_deep.findings import REGISTRY, Finding, Severity

logger = logging.getLogger("health_deep")


def as_message(finding: Finding) -> checks.CheckMessage:
    level = checks.Warning if finding.severity >= Severity.WARNING else checks.Info
    where = f" [database '{finding.alias}']" if finding.alias else ""
    return level(
        finding.message + where, hint=finding.hint or None, obj=finding.object, id=finding.id
    )


@checks.register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``health_deep.E001``: every problem with the HEALTH_DEEP setting."""
    from django.conf import settings

    messages: list[checks.CheckMessage] = [
        checks.Error(
            problem,
            id="health_deep.E001",
            hint="See the Settings section of the health_deep README.",
        )
        for problem in conf.problems()
    ]
    for item in conf.get().extra_checks:
        target = item[0] if isinstance(item, tuple) else item
        if isinstance(target, str):
            try:
                import_string(target)
            except ImportError as exc:
                messages.append(
                    checks.Error(
                        f"HEALTH_DEEP['EXTRA_CHECKS'] names {target!r}, which does not "
                        f"import ({exc}).",
                        id="health_deep.E001",
                    )
                )
    if conf.get().tenants:
        from health_deep.tenants import custom

        messages += [
            checks.Error(problem, id="health_deep.E001", hint="See docs/tenants.md.")
            for problem in custom.unresolved(conf.get().tenants)
        ]
    for alias in conf.get().databases or ():
        if alias not in settings.DATABASES:
            messages.append(
                checks.Error(
                    f"HEALTH_DEEP['DATABASES'] names '{alias}', which is not in "
                    "settings.DATABASES.",
                    id="health_deep.E001",
                )
            )
    return messages


@checks.register(checks.Tags.urls)
def check_smoke_registrations(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``health_deep.E307``: smoke queries registered in settings that cannot be used."""
    try:
        problems = runner.smoke_problems()
    except Exception as exc:  # the URLconf itself is broken: Django's own checks say so
        return [
            checks.Error(
                f"The URLconf could not be walked for smoke queries: {exc}", id="health_deep.E307"
            )
        ]
    return [
        checks.Error(
            problem,
            id="health_deep.E307",
            hint="Use a URL name (with its namespace) and a callable that returns a queryset.",
        )
        for problem in problems
    ]


@checks.register(checks.Tags.database)
def check_migrations(
    app_configs: Any = None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Migration integrity for each database Django asks about. Never raises: ``migrate``
    runs this check, and a bug here must not stop the command that fixes the schema."""
    try:
        return _database_messages(databases)
    except Exception as exc:
        logger.exception("health_deep's database system checks failed")
        return [
            checks.Warning(
                f"health_deep's checks failed unexpectedly ({type(exc).__name__}: "
                f"{str(exc)[:200]}).",
                id="health_deep.E004",
                hint="Run `manage.py health_deep` for the findings; the traceback is in the log.",
            )
        ]


def _database_messages(databases: Sequence[str] | None) -> list[checks.CheckMessage]:
    chosen = set(runner.aliases())
    findings: list[Finding] = []
    # Inside migrate, only what decides whether migrating is right (an edited or unknown
    # migration): drift costs the catalog on every deploy's migrate, smoke queries need the
    # schema migrate is building, and migrate itself says when models lack a migration.
    # `check --database` and `health_deep` report everything.
    inside_migrate = _inside_migrate()
    for alias in databases or ():
        if alias in chosen:
            findings += runner.migration_findings(alias, complete=True)
            if not inside_migrate:
                findings += runner.schema_findings(alias, complete=True)
    if databases and not inside_migrate:
        findings += runner.code_findings()
        findings += [f for f in runner.smoke_findings() if f.alias in databases or not f.alias]
    if inside_migrate:
        # migrate runs these checks just before it applies what they would report missing.
        findings = [f for f in findings if f.id not in _FIXED_BY_MIGRATE]
    return [as_message(f) for f in grouped(findings)]


# What migrate is about to fix: unapplied migrations and the schema they bring.
_FIXED_BY_MIGRATE = {
    "health_deep.E101",
    "health_deep.I104",
    "health_deep.E201",
    "health_deep.E202",
    "health_deep.E203",
    "health_deep.E204",
    "health_deep.E205",
    "health_deep.E206",
    "health_deep.E208",
    "health_deep.E112",  # tenants behind, or without a schema: migrate_schemas makes them
    "health_deep.E114",
}


def _inside_migrate() -> bool:
    from django.core.management.commands.migrate import Command as Migrate

    frame = sys._getframe(1)
    while frame is not None:
        if isinstance(frame.f_locals.get("self"), Migrate):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def grouped(findings: list[Finding]) -> list[Finding]:
    """One message per id and database: ``migrate`` runs these checks before it migrates,
    and twenty lines saying "not applied" would bury everything else."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        groups.setdefault((finding.id, finding.alias), []).append(finding)
    merged: list[Finding] = []
    for (fid, _alias), members in groups.items():
        if len(members) == 1:
            merged.append(members[0])
            continue
        names = [m.object for m in members]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        merged.append(
            dataclasses.replace(
                members[0],
                object=f"{len(names)} objects",
                message=f"{REGISTRY[fid].title[:1].upper()}{REGISTRY[fid].title[1:]}: {shown}.",
            )
        )
    return merged
