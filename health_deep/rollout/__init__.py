"""The rolling-deploy gate: will the release still running survive the pending migrations?

``manage.py health_deep plan`` asks it of a live database before ``migrate`` (what is
applied there is the running release); ``health_deep lock --check`` asks it before merge, of
the release the lockfile describes, with no database. Both judge with the live schema
check's rules (:mod:`health_deep.rollout.judge`); ``plan`` also counts the existing rows the
pending operations would fail on (:mod:`health_deep.rollout.preflight`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from django.db import connections

from health_deep import conf, dbguard
from health_deep.findings import Finding
from health_deep.history.graph import Key
from health_deep.rollout import judge, preflight
from health_deep.rollout.releases import Releases, build
from health_deep.schema import expected
from health_deep.schema.model import ExpectedTable

__all__ = ["Plan", "against_database", "against_lockfile"]


@dataclasses.dataclass(frozen=True)
class Plan:
    alias: str
    pending: list[Key]
    findings: list[Finding]
    exact: bool  # False: database operations could not be followed, the migration state was

    @property
    def critical(self) -> bool:
        return any(f.critical for f in self.findings)


def against_database(alias: str, *, budget: float) -> Plan:
    """Judge the migrations pending on ``alias`` against the release that applied the rest.

    Read-only under the guard; raises ``DatabaseError`` when the database cannot be read.
    """
    from django.db.migrations.loader import MigrationLoader

    with dbguard.guarded(alias, timeout=conf.get().statement_timeout):
        loader = MigrationLoader(connections[alias], ignore_no_migrations=True)
    applied = {key for key in loader.applied_migrations if key in loader.graph.nodes}
    releases = build(loader, applied)
    plan = _judged(alias, releases)
    if not releases.pending:
        return plan
    vendor = connections[alias].vendor
    counted = preflight.ask(alias, preflight.questions(releases, vendor=vendor), budget=budget)
    return dataclasses.replace(plan, findings=plan.findings + counted)


def against_lockfile(new: Iterable[Key], *, alias: str = "default") -> Plan:
    """Judge the migrations ``new`` (not in the lockfile yet) against the release that has
    every other migration on disk. Code only: no query is made."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    fresh = set(new)
    releases = build(loader, set(loader.graph.nodes) - fresh)
    return _judged(alias, releases)


def _judged(alias: str, releases: Releases) -> Plan:
    if not releases.pending:
        return Plan(alias, [], [], releases.exact)
    vendor = connections[alias].vendor
    ignore = conf.get().ignore_apps

    def tables(state: object) -> list[ExpectedTable]:
        return expected.expected_tables(alias, ignore_apps=ignore, registry=state.apps)  # type: ignore[attr-defined]

    old = tables(releases.old)
    try:
        before, after = tables(releases.before), tables(releases.after)
    except Exception:  # a relation the database state cannot resolve: judge by the states
        releases = releases.by_state()
        before, after = tables(releases.before), tables(releases.after)
    findings = judge.judge(
        alias=alias, vendor=vendor, old=old, before=before, after=after, blame=releases.blame
    )
    findings += judge.unknowable(alias=alias, steps=releases.steps)
    return Plan(alias, releases.pending, findings, releases.exact)
