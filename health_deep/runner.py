"""Run the checks: turn databases and code into findings, never raising, always bounded.

The view, the management command and the system checks all call this module, so each of
them reports exactly the same findings. Each check's own running lives beside it
(``history/runner``, ``schema/runner``, ``smoke/runner``); the findings any check can end
with in ``outcomes``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError

from health_deep import conf, dbguard
from health_deep.conf import aliases
from health_deep.dbguard import failure_finding
from health_deep.findings import Finding
from health_deep.history.runner import (
    code_findings,
    migration_facts,
    migration_findings,
    migrations,
)
from health_deep.outcomes import (
    acknowledged,
    deadline_finding,
    router_finding,
    starting_finding,
    unknown_alias,
)
from health_deep.schema.runner import expected_schema, schema, schema_facts, schema_findings
from health_deep.smoke.runner import (
    smoke_endpoints,
    smoke_findings,
    smoke_plan,
    smoke_problems,
)

__all__ = [
    "acknowledged",
    "aliases",
    "code_findings",
    "connection_findings",
    "deadline_finding",
    "expected_schema",
    "migration_facts",
    "migration_findings",
    "migrations",
    "router_finding",
    "schema",
    "schema_facts",
    "schema_findings",
    "smoke_endpoints",
    "smoke_findings",
    "smoke_plan",
    "smoke_problems",
    "starting_finding",
    "unknown_alias",
]


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
