"""Run each endpoint's query for one real row, read-only, under one deadline.

Endpoints that share a query (a list and a detail view of one model) share one run. The
rows are built into model instances, so field converters meet real values: the failure that
only shows with data in the table shows here. Every query runs inside ``dbguard.guarded``
(rolled back, read-only, timed out, user statements screened); after a database error a fresh
transaction takes the remaining queries, so one failure does not hide the next. Registered
callables run through ``userguard.call_guarded``, which guards every alias they reach. Queries
the deadline leaves out run first on the next probe.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError
from django.db.models import QuerySet
from django.db.models.query import RawQuerySet

from health_deep import dbguard, memo, tenants, userguard
from health_deep.findings import Finding
from health_deep.smoke import contexts
from health_deep.smoke.discovery import Endpoint

REGISTERED = "*"  # the alias of a registered callable: whichever it reaches

_FAILURE = {
    dbguard.Failure.TIMEOUT: "health_deep.E302",
    dbguard.Failure.READ_ONLY: "health_deep.E304",
}


@dataclasses.dataclass(frozen=True)
class Query:
    """One distinct query and the endpoints that run it."""

    key: str
    alias: str
    model: str
    make: Callable[[], Any] = dataclasses.field(compare=False)
    endpoints: tuple[Endpoint, ...] = ()
    sql: str = ""

    @property
    def app_label(self) -> str:
        return self.model.partition(".")[0]


@dataclasses.dataclass(frozen=True)
class Plan:
    """The distinct queries to run, and the endpoints whose query could not even be built."""

    queries: list[Query]
    unplanned: tuple[Endpoint, ...] = ()  # each with query None and the reason
    in_tenants: tuple[Query, ...] = ()  # tenant-only apps' queries: run in tenants' schemas
    recorded: frozenset[tuple[str, str | None]] = frozenset()  # (route, name) a recording covers
    findings: tuple[Finding, ...] = ()  # what the plan itself found (an unusable recording)


def with_recorded(plan: Plan, found: Any) -> Plan:
    """``plan`` with the recorded statements of ``smoke.lock`` (:mod:`.recorded`) added as
    queries of their own; a tenant-only app's run in the tenants' schemas."""
    tenancy = tenants.get()
    queries, in_tenants = list(plan.queries), list(plan.in_tenants)
    for replay, endpoints in found.statements:
        query = Query(
            key=f"recorded:{replay.alias}:{replay.sql}",
            alias=replay.alias,
            model=replay.owner or "recorded query",
            make=functools.partial(lambda r: r, replay),
            endpoints=endpoints,
            sql=replay.sql,
        )
        owner_app = query.app_label if replay.owner else ""
        if tenancy is not None and owner_app and tenancy.tenant_only(owner_app, replay.alias):
            in_tenants.append(query)
        else:
            queries.append(query)
    return dataclasses.replace(
        plan,
        queries=queries,
        in_tenants=tuple(in_tenants),
        recorded=found.covered,
        findings=plan.findings + tuple(found.findings),
    )


def plan(endpoints: Iterable[Endpoint]) -> Plan:
    """Group covered endpoints by the query they run (computed once per process).

    Planning is per endpoint: a manager or queryset that raises while the query is built (one
    that needs a context only a request gives, like django-scopes' ``ScopeError``) leaves that
    endpoint not covered, with the reason, and every other endpoint planned. A database error
    is not caught here: the guard's transaction is spoiled for the rest, and the caller
    reports it.
    """
    groups: dict[str, Query] = {}
    in_tenants: dict[str, Query] = {}
    unplanned: list[Endpoint] = []
    tenancy = tenants.get()
    for endpoint in endpoints:
        if endpoint.query is None:
            continue
        try:
            with contexts.unscoped():
                query = _describe(endpoint)
        except DatabaseError:
            raise
        except Exception as exc:
            unplanned.append(
                dataclasses.replace(endpoint, query=None, reason=contexts.why_not_built(exc))
            )
            continue
        # A tenant-only app's table is in each tenant's schema, not in the shared one.
        tenant_only = tenancy is not None and tenancy.tenant_only(query.app_label, query.alias)
        chosen = in_tenants if tenant_only else groups
        known = chosen.get(query.key)
        chosen[query.key] = dataclasses.replace(
            known or query, endpoints=(*(known.endpoints if known else ()), endpoint)
        )
    return Plan(list(groups.values()), tuple(unplanned), tuple(in_tenants.values()))


def _describe(endpoint: Endpoint) -> Query:
    assert endpoint.query is not None
    if endpoint.source != "registered":
        # Building a queryset runs nothing; its SQL tells which endpoints share a query.
        queryset = endpoint.query()
        try:
            sql = str(queryset.query)
        except Exception:  # EmptyResultSet and friends: no shared key, run it alone
            sql = f"{endpoint.view}@{endpoint.route}"
        return Query(
            key=f"{queryset.db}:{sql}",
            alias=queryset.db,
            model=queryset.model._meta.label,
            make=endpoint.query,
            sql=sql,
        )
    # A registered callable may itself run queries, on any alias: it is only ever called
    # through userguard.call_guarded, which guards every alias it reaches.
    key = f"registered:{id(endpoint.query)}"
    return Query(
        key=key, alias=REGISTERED, model=f"smoke query of {endpoint.view}", make=endpoint.query
    )


@dataclasses.dataclass
class Outcome:
    findings: list[Finding]
    ran: int
    skipped: list[Query]


def run(queries: list[Query], *, deadline: float, timeout: float) -> Outcome:
    """Run ``queries`` within ``deadline`` seconds, starting where the last probe stopped."""
    if not queries:
        return Outcome([], 0, [])
    # Where the next probe starts, so the queries a deadline leaves out are not always the same.
    rotation = memo.record("smoke:rotation")
    start = rotation.get("offset", 0) % len(queries)
    ordered = queries[start:] + queries[:start]
    stop = time.monotonic() + deadline
    outcome = Outcome([], 0, [])
    for alias in dict.fromkeys(q.alias for q in ordered):
        group = [q for q in ordered if q.alias == alias]
        remaining = stop - time.monotonic()
        if remaining <= 0:
            outcome.skipped += group
            continue
        if alias == REGISTERED:
            _run_registered(group, stop=stop, timeout=min(timeout, remaining), outcome=outcome)
        else:
            _run_alias(alias, group, stop=stop, timeout=min(timeout, remaining), outcome=outcome)
    rotation["offset"] = start + outcome.ran
    return outcome


def _run_registered(group: list[Query], *, stop: float, timeout: float, outcome: Outcome) -> None:
    for position, query in enumerate(group):
        if time.monotonic() >= stop:
            outcome.skipped += group[position:]
            return
        touched = userguard.Touched()
        limit = max(0.001, min(timeout, stop - time.monotonic()))
        # The default database from the start (where most callables read), then whichever
        # others the callable was seen to reach.
        reached = memo.record("smoke:reached")  # registered query -> the aliases it reached
        known = reached.setdefault(query.key, {DEFAULT_DB_ALIAS} & set(settings.DATABASES))
        try:
            finding = userguard.call_guarded(
                functools.partial(_run_one, query), timeout=limit, known=known, touched=touched
            )
        except DatabaseError as exc:  # the guard itself failed on an alias it reached
            finding = _finding(_failure_id(exc), query, exc)
            if dbguard.classify(exc) is dbguard.Failure.UNREACHABLE:
                finding = dataclasses.replace(
                    dbguard.failure_finding(touched.last or "", "smoke", exc),
                    endpoints=finding.endpoints,
                )
        outcome.ran += 1
        if finding is not None:
            # Name the database the failure happened on, not the one it was expected on.
            outcome.findings.append(
                dataclasses.replace(finding, alias=touched.last or next(iter(sorted(known)), ""))
            )


def run_in_schema(
    alias: str, queries: list[Query], *, search_path: list[str], deadline: float, timeout: float
) -> Outcome:
    """Run ``queries`` on ``alias`` with ``search_path`` (a tenant's schema first), within
    ``deadline`` seconds. The caller makes the site's tenancy library see that schema too."""
    outcome = Outcome([], 0, [])
    stop = time.monotonic() + deadline
    limit = min(timeout, deadline)
    _run_alias(alias, queries, stop=stop, timeout=limit, outcome=outcome, search_path=search_path)
    return outcome


def _run_alias(
    alias: str,
    group: list[Query],
    *,
    stop: float,
    timeout: float,
    outcome: Outcome,
    search_path: list[str] | None = None,
) -> None:
    pending = list(group)
    while pending:
        # No savepoint per query (it would triple the statements): after a database error
        # the transaction is spoiled, so it is rolled back and a fresh one takes the rest.
        try:
            limit = max(0.001, min(timeout, stop - time.monotonic()))
            with dbguard.guarded(alias, timeout=limit, screen=True, search_path=search_path):
                while pending:
                    if time.monotonic() >= stop:
                        outcome.skipped += pending
                        return
                    query = pending[0]
                    finding = _run_one(query)  # raises when the database is gone
                    pending.pop(0)
                    outcome.ran += 1
                    if finding is not None:
                        outcome.findings.append(finding)
                        if finding.details["database"]:  # the transaction is spoiled
                            break
        except DatabaseError as exc:  # the guard failed, or the connection went away
            endpoints = tuple(e.label for q in pending for e in q.endpoints)
            if not pending:
                return
            if dbguard.classify(exc) is dbguard.Failure.UNREACHABLE:
                # The same E002 the other checks give, naming the endpoints it takes down,
                # rather than one query failure per endpoint.
                outcome.findings.append(
                    dataclasses.replace(
                        dbguard.failure_finding(alias, "smoke", exc), endpoints=endpoints
                    )
                )
            else:
                outcome.findings.append(
                    _finding(_failure_id(exc), pending[0], exc, endpoints=endpoints, alias=alias)
                )
            return


def _failure_id(exc: DatabaseError) -> str:
    return _FAILURE.get(dbguard.classify(exc), "health_deep.E301")


def _run_one(query: Query) -> Finding | None:
    try:
        with contexts.unscoped():
            _fetch_one(query.make())
    except DatabaseError as exc:
        if dbguard.classify(exc) is dbguard.Failure.UNREACHABLE:
            raise
        return _finding(_failure_id(exc), query, exc)
    except Exception as exc:  # a converter choking on a real value, a broken callable
        return _finding("health_deep.E301", query, exc)
    return None


def _fetch_one(result: Any) -> None:
    if isinstance(result, QuerySet):
        # Building the instance runs every field's from_db_value on a real row.
        list(result if result.query.is_sliced else result[:1])
    elif isinstance(result, RawQuerySet):
        next(iter(result), None)
    elif callable(getattr(result, "fetch_one", None)):  # a recorded statement (recorded.py)
        result.fetch_one()


def _finding(
    fid: str,
    query: Query,
    exc: BaseException,
    *,
    endpoints: tuple[str, ...] | None = None,
    alias: str | None = None,
) -> Finding:
    endpoints = endpoints or tuple(e.label for e in query.endpoints)
    what = {
        "health_deep.E301": "fails",
        "health_deep.E302": "timed out or waited on a lock",
        "health_deep.E304": "tried to write and was refused",
    }[fid]
    return Finding(
        id=fid,
        alias=alias or query.alias,
        object=query.model,
        message=f"The query behind {len(endpoints)} endpoint(s) {what} "
        f"({type(exc).__name__}): {', '.join(endpoints)}.",
        hint=_HINTS[fid],
        endpoints=endpoints,
        details={
            "model": query.model,
            "error": type(exc).__name__,
            "database": isinstance(exc, DatabaseError),
            "detail": str(exc)[:500],
            "sql": query.sql[:2000],
        },
    )


_HINTS = {
    "health_deep.E301": "These endpoints fail for real rows. Compare the schema findings "
    "(E2xx) for the tables in the SQL; a converter error means a stored value the field "
    "cannot read.",
    "health_deep.E302": "A lock held by a migration or a slow plan: these endpoints would hang "
    "too. Check pg_stat_activity / running migrations.",
    "health_deep.E304": "Smoke queries run read-only: make the registered callable only read.",
}
