"""The rolling-deploy gate: will the release still running survive the pending migrations?

``manage.py health_deep plan`` asks it of a live database before ``migrate`` (what is
applied there is the running release); ``health_deep lock --check`` asks it before merge, of
the release the lockfile describes, with no database. Both judge with the live schema
check's rules (:mod:`health_deep.rollout.judge`); ``plan`` also counts the existing rows the
pending operations would fail on (:mod:`health_deep.rollout.preflight`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable

from django.db import DatabaseError, connections

from health_deep import backends, conf, dbguard, tenants
from health_deep.backends.base.locks import Size
from health_deep.findings import Finding
from health_deep.history.graph import Key
from health_deep.rollout import judge, locks, per_tenant, preflight, statements
from health_deep.rollout.per_tenant import TenantState
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
    tenants: list[TenantState] = dataclasses.field(default_factory=list)
    """On a schema-per-tenant site: each state of the tenants' schemas and what it has pending."""

    @property
    def critical(self) -> bool:
        return any(f.critical for f in self.findings)


def against_database(alias: str, *, budget: float) -> Plan:
    """Judge the migrations pending on ``alias`` against the release that applied the rest,
    and on a schema-per-tenant site those pending in each tenant schema.

    Read-only under the guard; raises ``DatabaseError`` when the database cannot be read.
    """
    from django.db.migrations.loader import MigrationLoader

    ends = time.monotonic() + budget
    with dbguard.guarded(alias, timeout=conf.get().statement_timeout):
        loader = MigrationLoader(connections[alias], ignore_no_migrations=True)
    applied = {key for key in loader.applied_migrations if key in loader.graph.nodes}
    releases = build(loader, applied)
    tenancy = tenants.get()
    if tenancy is not None and tenancy.alias != alias:
        tenancy = None
    plan = _judged(alias, releases, ignore=_tenant_only(tenancy))
    weighed = _weighed(alias, releases, ignore=_tenant_only(tenancy), budget=budget)
    plan = dataclasses.replace(plan, findings=plan.findings + weighed)
    if releases.pending:
        vendor = connections[alias].vendor
        asked = [
            q
            for q in preflight.questions(releases, vendor=vendor)
            if not (tenancy and tenancy.tenant_only(q.model._meta.app_label, alias))
        ]
        counted = preflight.ask(alias, asked, budget=max(0.0, ends - time.monotonic()))
        plan = dataclasses.replace(plan, findings=plan.findings + counted)
    if tenancy is None:
        return plan
    states, found = per_tenant.against_tenants(
        tenancy,
        loader,
        ends=ends,
        judge=lambda each, kind: _judged(alias, each, ignore=_others(kind)).findings,
        weigh=lambda each, kind, schemas: _weighed(
            alias,
            each,
            ignore=_others(kind),
            budget=budget,
            search_paths=[tenancy.search_path(s) for s in schemas],
        ),
    )
    return dataclasses.replace(plan, findings=plan.findings + found, tenants=states)


def against_lockfile(new: Iterable[Key], *, alias: str = "default") -> Plan:
    """Judge the migrations ``new`` (not in the lockfile yet) against the release that has
    every other migration on disk (in the shared schema, and in each kind of tenant schema on
    a schema-per-tenant site). Code only: no query is made."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    fresh = set(new)
    releases = build(loader, set(loader.graph.nodes) - fresh)
    tenancy = tenants.get()
    if tenancy is None or tenancy.alias != alias:
        plan = _judged(alias, releases)
        weighed = _weighed(alias, releases, ignore=(), budget=0.0, offline=True)
        return dataclasses.replace(plan, findings=plan.findings + weighed)
    plan = _judged(alias, releases, ignore=_tenant_only(tenancy))
    findings = plan.findings + _weighed(
        alias, releases, ignore=_tenant_only(tenancy), budget=0.0, offline=True
    )
    for kind in tenancy.kinds:
        with tenants.inside(tenancy, kind.fixed[0] if kind.fixed else "health_deep", kind):
            judged = _judged(alias, releases, ignore=_others(kind)).findings
            judged += _weighed(alias, releases, ignore=_others(kind), budget=0.0, offline=True)
        where = f"every tenant schema{f' of kind {kind.name}' if kind.name else ''}"
        findings += [dataclasses.replace(f, message=f"In {where}: {f.message}") for f in judged]
    return dataclasses.replace(plan, findings=findings)


def _tenant_only(tenancy: tenants.Tenancy | None) -> list[str]:
    """The apps whose tables are only in tenants' schemas: never judged in the shared one."""
    if tenancy is None:
        return []
    return sorted(a for a in tenancy.tenant if tenancy.tenant_only(a, tenancy.alias))


def _others(kind: tenants.Kind) -> list[str]:
    """Every app but ``kind``'s: what its schemas do not hold."""
    from django.apps import apps

    return sorted({c.label for c in apps.get_app_configs()} - kind.apps)


def _weighed(
    alias: str,
    releases: Releases,
    *,
    ignore: Iterable[str],
    budget: float,
    search_paths: list[list[str]] | None = None,
    offline: bool = False,
) -> list[Finding]:
    """The long locks the pending operations take, weighed by the tables' sizes: read on
    ``alias`` (the largest over ``search_paths``, a tenant state's schemas, as far as the
    budget goes), or unknown ``offline`` (``lock --check``)."""
    connection = connections[alias]
    backend = backends.get(connection.vendor)
    if not releases.pending or not backend.features.judges_locks:
        return []
    config = conf.get()
    left_out = {*config.ignore_apps, *ignore}
    thresholds = locks.Thresholds(config.plan_warn_rows, config.plan_critical_rows)
    if offline:
        collected = statements.collect(releases, alias=alias, offline=True)
        held = _held(backend, collected, left_out)
        existing = {m._meta.db_table for m in releases.before.apps.get_models()}
        new = {lock.table for h in held for lock in h.locks} - existing
        unwritten = [c for c in collected if not c.known and c.step.migration[0] not in left_out]
        found = locks.judge(
            alias=alias,
            held=held,
            sizes=None,
            new_tables=new,
            thresholds=thresholds,
            lock_limit=None,
            vendor=connection.vendor,
        )
        if unwritten:  # MySQL's schema editor asks the server's version for some SQL
            found.append(
                locks.not_weighed(
                    alias,
                    f"the SQL of {len(unwritten)} operation(s) needs the database server to be "
                    f"written ({', '.join(c.step.where for c in unwritten[:3])}); "
                    "`health_deep plan` weighs them against it",
                )
            )
        return found
    timeout = max(budget, config.statement_timeout)
    try:
        with dbguard.guarded(alias, timeout=timeout):
            held = _held(backend, statements.collect(releases, alias=alias), left_out)
    except DatabaseError as exc:  # the catalog behind the SQL could not be read in time
        return [locks.not_weighed(alias, f"the SQL could not be worked out ({type(exc).__name__})")]
    tables = sorted({lock.table for h in held for lock in h.locks})
    unknown: dict[str, str] = {}
    try:
        sizes, limit = _sizes(backend, alias, tables, search_paths, budget=budget)
    except DatabaseError as exc:  # weighed as unknown, as lock --check does
        sizes, limit = None, None
        unknown = {"unknown": f"the table sizes could not be read ({type(exc).__name__})"}
    return locks.judge(
        alias=alias,
        held=held,
        sizes=sizes,
        new_tables=set(),
        thresholds=thresholds,
        lock_limit=limit,
        vendor=connection.vendor,
        **unknown,
    )


def _sizes(
    backend: backends.BaseBackend,
    alias: str,
    tables: list[str],
    search_paths: list[list[str]] | None,
    *,
    budget: float,
) -> tuple[dict[str, Size], float | None]:
    """The tables' sizes (the largest over ``search_paths``, as far as the budget goes) and
    migrate's lock timeout."""
    connection = connections[alias]
    ends = time.monotonic() + budget
    with dbguard.guarded(alias, timeout=max(budget, conf.get().statement_timeout)) as cursor:
        sizes: dict[str, Size] = {}
        paths: list[list[str] | None] = [None] if search_paths is None else list(search_paths)
        for path in paths:
            if sizes and time.monotonic() > ends:
                break  # the largest of the schemas read: said in each size's estimate
            if path is not None:
                backend.use_schemas(cursor, path)
            for table, size in backend.table_sizes(cursor, tables).items():
                if table not in sizes or size.rows_or_guess() > sizes[table].rows_or_guess():
                    where = f"; the largest, in schema {path[0]}" if path else ""
                    sizes[table] = dataclasses.replace(size, estimate=size.estimate + where)
        limit = backend.lock_limit(connection, cursor)
    return sizes, limit


def _held(
    backend: backends.BaseBackend, collected: list[statements.Collected], left_out: set[str]
) -> list[locks.Held]:
    held = []
    for c in collected:
        if c.step.migration[0] in left_out:
            continue
        found = tuple(
            lock
            for sql in c.statements
            for lock in backend.lock_effects(sql, column_type=c.column_type)
        )
        if found:
            held.append(locks.Held(c.step, found, c.statements))
    return held


def _judged(alias: str, releases: Releases, *, ignore: Iterable[str] = ()) -> Plan:
    if not releases.pending:
        return Plan(alias, [], [], releases.exact)
    vendor = connections[alias].vendor
    left_out = [*conf.get().ignore_apps, *ignore]

    def tables(state: object) -> list[ExpectedTable]:
        return expected.expected_tables(alias, ignore_apps=left_out, registry=state.apps)  # type: ignore[attr-defined]

    old = tables(releases.old)
    try:
        before, after = tables(releases.before), tables(releases.after)
    except Exception:  # a relation the database state cannot resolve: judge by the states
        releases = releases.by_state()
        before, after = tables(releases.before), tables(releases.after)
    findings = judge.judge(
        alias=alias, vendor=vendor, old=old, before=before, after=after, blame=releases.blame
    )
    left = set(left_out)
    findings += judge.unknowable(
        alias=alias, steps=[s for s in releases.steps if s.migration[0] not in left]
    )
    return Plan(alias, releases.pending, findings, releases.exact)
