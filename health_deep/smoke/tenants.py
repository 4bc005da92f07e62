"""The smoke queries of tenant-only apps, run inside the tenants' schemas in turn.

A probe's evaluation runs them in :data:`PER_EVALUATION` tenant schemas (as its time allows),
so it costs the same whatever the number of tenants; the command in every schema its
``SMOKE_DEADLINE`` allows. Each schema runs in a
guarded transaction of its own with the tenant's search path, the tenancy library seeing that
schema too (its router, ``connection.tenant``): first the schemas whose own host a probe came
to, then those whose last run failed (a fix is seen at once), then the others in turn. A
schema's last result stands until it runs again, so a failure does not come and go with the
rotation. Failures are ``E308``, naming the endpoints and the schemas; ``I305`` says in how many
schemas the queries ran in this process.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

from django.conf import settings
from django.db import DatabaseError

from health_deep import dbguard, memo, tenants
from health_deep.findings import Finding
from health_deep.smoke import execution, planning
from health_deep.tenants import Kind, Tenancy

PER_EVALUATION = 10  # schemas a probe's evaluation runs in (more when their hosts asked)
MAX_WANTED = 1000  # tenant hosts remembered between two evaluations
RERUN_FAILING = 5  # schemas whose last run failed, run again first in each evaluation
_PER_TENANT = {"health_deep.E301", "health_deep.E302"}  # the rest is the code's, not a tenant's


@dataclasses.dataclass
class Runs:
    """What the tenant runs found in this process."""

    results: dict[str, tuple[Finding, ...]] = dataclasses.field(default_factory=dict)
    """Each schema's failures at its last complete run (empty: it passed)."""
    offset: int = 0
    wanted: dict[str, None] = dataclasses.field(default_factory=dict)
    """Schemas whose host a probe came to since the last evaluation, in order."""
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)


@dataclasses.dataclass(frozen=True)
class Coverage:
    ran: int  # schemas with a complete run in this process
    of: int
    queries: int


def _runs() -> Runs:
    return memo.cached("smoke:tenant-runs", Runs)


def ask_for(schema: str) -> None:
    """A probe came to ``schema``'s host: run its queries first next time. Cheap, and never
    waits for an evaluation (no lock: one dict operation at a time is atomic)."""
    runs = _runs()
    if schema not in runs.wanted and len(runs.wanted) < MAX_WANTED:
        runs.wanted[schema] = None


def kind_queries(tenancy: Tenancy, kind: Kind) -> list[execution.Query]:
    """The queries of ``kind``'s apps behind its URLconf's endpoints (planned once)."""

    def compute() -> list[execution.Query]:
        urlconf = kind.urlconf if kind.urlconf != settings.ROOT_URLCONF else None
        schema = kind.fixed[0] if kind.fixed else "health_deep"
        plan = planning.planned(urlconf, inside=lambda: tenants.inside(tenancy, schema, kind))
        return [
            q
            for q in (*plan.queries, *plan.in_tenants)
            if q.alias == tenancy.alias and q.app_label in kind.apps
        ]

    return memo.cached(f"smoke:tenant-queries:{kind.name}", compute)


def findings(
    tenancy: Tenancy, *, deadline: float, timeout: float, complete: bool = False
) -> tuple[list[Finding], Coverage]:
    """Run the tenant queries in tenant schemas for at most ``deadline`` seconds: in the
    next few (a probe), or in as many as fit (``complete``: the command)."""
    stop = time.monotonic() + deadline
    runs = _runs()
    try:
        with dbguard.guarded(tenancy.alias, timeout=min(timeout, deadline)):
            every = tenants.schemas(tenancy)
    except DatabaseError as exc:
        return [dbguard.failure_finding(tenancy.alias, "smoke", exc)], Coverage(0, 0, 0)
    queries = {k.name: kind_queries(tenancy, k) for k in tenancy.kinds}
    with runs.lock:
        for gone in set(runs.results) - set(every):
            del runs.results[gone]
        turn, names = _order(runs, every, queries)
        if not complete:
            turn = turn[: max(PER_EVALUATION, len(runs.wanted))]
        for schema in turn:
            left = stop - time.monotonic()
            if left <= 0:
                break
            kind = every[schema]
            with tenants.inside(tenancy, schema, kind):
                outcome = execution.run_in_schema(
                    tenancy.alias,
                    queries[kind.name],
                    search_path=tenancy.search_path(schema),
                    deadline=left,
                    timeout=timeout,
                )
            runs.wanted.pop(schema, None)
            if outcome.skipped:  # out of time inside it: its last complete run stands
                break
            runs.results[schema] = tuple(outcome.findings)
            if schema in names:
                runs.offset = names[schema] + 1
        results = dict(runs.results)
    failing = {s: r for s, r in results.items() if r}
    domains = _domains(tenancy, failing)
    covered = Coverage(len(results), len(every), sum(len(q) for q in queries.values()))
    return _aggregate(tenancy, failing, len(every), domains), covered


def _order(
    runs: Runs, every: dict[str, Kind], queries: dict[str, Any]
) -> tuple[list[str], dict[str, int]]:
    """The schemas to run: asked for, then a few of those failing, then the others in turn
    (each once); and each schema's place in the turn."""
    names = [s for s in every if queries[every[s].name]]
    if not names:
        return [], {}
    start = runs.offset % len(names)
    turn = names[start:] + names[:start]
    failing = [s for s in turn if runs.results.get(s)][:RERUN_FAILING]
    # A snapshot: probes on tenants' hosts add to it meanwhile, without the lock.
    first = [s for s in list(runs.wanted) if s in every and queries[every[s].name]]
    return list(dict.fromkeys([*first, *failing, *turn])), {s: i for i, s in enumerate(names)}


def _domains(tenancy: Tenancy, failing: dict[str, tuple[Finding, ...]]) -> dict[str, str]:
    if not failing:
        return {}
    try:
        with dbguard.guarded(tenancy.alias, timeout=0.5):
            return tenants.primary_domains(tenancy, sorted(failing)[:100])
    except DatabaseError:
        return {}  # names only: the domains are a courtesy


def _aggregate(
    tenancy: Tenancy, failing: dict[str, tuple[Finding, ...]], of: int, domains: dict[str, str]
) -> list[Finding]:
    """One ``E308`` per way of failing, naming the schemas that fail that way; what fails the
    same in every schema (a write refused, the database gone) once, as it is."""
    groups: dict[tuple[Any, ...], list[str]] = {}
    found: dict[tuple[str, str], Finding] = {}
    for schema, inner in sorted(failing.items()):
        mine = [f for f in inner if f.id in _PER_TENANT]
        for f in inner:
            if f.id not in _PER_TENANT:
                found.setdefault((f.id, f.object), f)
        if mine:
            key = tuple((f.id, f.endpoints, f.details.get("error")) for f in mine)
            groups.setdefault(key, []).append(schema)
    out = list(found.values())
    for group in groups.values():
        same = [f for f in failing[group[0]] if f.id in _PER_TENANT]
        endpoints = tuple(dict.fromkeys(e for f in same for e in f.endpoints))
        errors = ", ".join(sorted({str(f.details.get("error")) for f in same}))
        out.append(
            tenants.finding(
                "health_deep.E308",
                tenancy,
                group,
                of=of,
                domains=domains,
                says=f"fail the query behind {len(endpoints)} endpoint(s) ({errors}): "
                f"{', '.join(endpoints)}.",
                hint="These endpoints fail for these tenants' rows or tables. Compare the "
                "tenant schema findings (E225) for the same schemas.",
                endpoints=endpoints,
                details={
                    "findings": [
                        {
                            "id": f.id,
                            "object": f.object,
                            "endpoints": list(f.endpoints),
                            "error": f.details.get("error"),
                            "detail": f.details.get("detail"),
                            "sql": f.details.get("sql"),
                        }
                        for f in same
                    ]
                },
            )
        )
    return out
