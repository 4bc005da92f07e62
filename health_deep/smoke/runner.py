"""The smoke check as the site runs it: discover once, plan once, run under the deadline.

Discovery and planning depend only on the code and are kept per process; each run executes
the planned queries (``execution``) and reports coverage.
"""

from __future__ import annotations

import logging
import time

from django.db import DatabaseError

from health_deep import acknowledge, conf, dbguard, memo, userguard
from health_deep.findings import Finding
from health_deep.smoke import discovery, execution, registry
from health_deep.smoke.discovery import Endpoint

logger = logging.getLogger("health_deep")

# Views that are not the site's API: admin, static files, the health endpoints themselves.
_NOT_ENDPOINTS = (
    "django.contrib.admin.",
    "django.contrib.staticfiles.",
    "django.views.static.",
    "health_deep.",
    "health_check.",
)
_NOT_ENDPOINT_NAMESPACES = {"admin", "health_deep"}


def smoke_endpoints() -> list[Endpoint]:
    """The URLconf's endpoints, discovered once per process."""

    def compute() -> list[Endpoint]:
        config = conf.get()
        registered, _problems = registry.from_settings(config.smoke_queries)
        excluded = set(config.smoke_exclude)
        return [
            e
            for e in discovery.discover(registered=registered)
            if not e.view.startswith(_NOT_ENDPOINTS)
            and e.namespace.split(":")[0] not in _NOT_ENDPOINT_NAMESPACES
            and e.name not in excluded
            and not any(e.route.startswith(p) for p in excluded if p.startswith("/"))
        ]

    return memo.cached("smoke:endpoints", compute)


def _planned() -> execution.Plan:
    def compute() -> execution.Plan:
        endpoints = smoke_endpoints()
        return userguard.call_guarded(
            lambda: execution.plan(endpoints), known=set(), timeout=conf.get().statement_timeout
        )

    return memo.cached("smoke:plan", compute)


def smoke_plan() -> list[execution.Query]:
    """The distinct queries behind the endpoints, planned once per process. Planning builds
    each view's queryset, which runs the site's managers (user code): under the guard."""
    return _planned().queries


def _as_planned(endpoints: list[Endpoint]) -> list[Endpoint]:
    """The endpoints, those whose queryset could not be built marked not covered."""
    unplanned = {(e.route, e.name, e.view): e for e in _planned().unplanned}
    return [unplanned.get((e.route, e.name, e.view), e) for e in endpoints]


def smoke_findings(*, deadline: float | None = None) -> list[Finding]:
    """Run every endpoint's query for one real row, within ``deadline`` seconds (by default
    ``SMOKE_DEADLINE``; a probe passes what is left of its own)."""
    config = conf.get()
    started = time.monotonic()
    budget = config.smoke_deadline if deadline is None else deadline
    try:
        endpoints, queries = smoke_endpoints(), smoke_plan()
    except DatabaseError as exc:  # a manager ran a query while its queryset was built
        return [_planning_failed(exc)]
    except Exception as exc:  # a URLconf or view that cannot load must not become a 500
        logger.exception("health_deep could not discover the endpoints")
        return [
            Finding(
                id="health_deep.E004",
                alias="",
                object="URLconf",
                message="The endpoints could not be discovered.",
                hint="Run `manage.py check` to see the error.",
                details={"error": type(exc).__name__, "detail": str(exc)[:500]},
            )
        ]
    # A probe's deadline is its answer's: planning (the first time) counts against it. The
    # command and the system checks give the queries the whole budget, whatever planning took.
    left = budget if deadline is None else max(0.0, budget - (time.monotonic() - started))
    outcome = execution.run(queries, deadline=left, timeout=config.statement_timeout)
    findings = list(outcome.findings)
    if endpoints:  # nothing to cover is not worth a line in the report
        findings.append(_coverage(_as_planned(endpoints), queries))
    if outcome.skipped:
        labels = [e.label for q in outcome.skipped for e in q.endpoints]
        findings.append(
            Finding(
                id="health_deep.I306",
                alias="",
                object=f"{len(outcome.skipped)} query(ies)",
                message=f"{len(outcome.skipped)} smoke query(ies) did not fit in the "
                f"{budget:g} s deadline; the next probe runs them first.",
                hint="Raise HEALTH_DEEP['SMOKE_DEADLINE'] or exclude endpoints with SMOKE_EXCLUDE.",
                endpoints=tuple(labels),
                details={"endpoints": labels},
            )
        )
    return acknowledge.apply(findings, config.acknowledge)


def _planning_failed(exc: DatabaseError) -> Finding:
    kind = dbguard.classify(exc)
    if kind is dbguard.Failure.UNREACHABLE:
        return dbguard.failure_finding("", "smoke", exc)
    wrote = kind is dbguard.Failure.READ_ONLY
    return Finding(
        id="health_deep.E304" if wrote else "health_deep.E301",
        alias="",
        object="managers",
        message="Building the endpoints' querysets ran a manager that "
        + ("tried to write; it was refused." if wrote else "failed."),
        hint="A manager's get_queryset() runs on every request of the views that use it: "
        "make it only build the queryset.",
        details={"error": type(exc).__name__, "detail": str(exc)[:500]},
    )


def _coverage(endpoints: list[Endpoint], queries: list[execution.Query]) -> Finding:
    covered = [e.label for e in endpoints if e.covered]
    base_only = [
        {"endpoint": e.label, "view": e.view, "reason": e.reason}
        for e in endpoints
        if e.query is not None and not e.covered
    ]
    missing = [
        {"endpoint": e.label, "view": e.view, "reason": e.reason}
        for e in endpoints
        if e.query is None
    ]
    return Finding(
        id="health_deep.I305",
        alias="",
        object=f"{len(endpoints)} endpoint(s)",
        message=f"{len(covered)} of {len(endpoints)} endpoint(s) covered by {len(queries)} "
        f"smoke query(ies); {len(base_only)} only by their base queryset (their own "
        f"get_queryset() runs something else); {len(missing)} not covered.",
        hint="Cover the others with @smoke_query on the view or HEALTH_DEEP['SMOKE_QUERIES'].",
        details={"covered": covered, "base_queryset_only": base_only, "not_covered": missing},
    )


def smoke_problems() -> list[str]:
    """Every invalid smoke registration, as sentences (the E307 system check)."""
    registered, problems = registry.from_settings(conf.get().smoke_queries)
    if not registered:
        return problems  # nothing to look up: every command's checks skip the URLconf walk
    names = {e.name for e in discovery.discover() if e.name}
    problems += [
        f"HEALTH_DEEP['SMOKE_QUERIES'] names URL {name!r}, which the URLconf does not have"
        for name in registered
        if name not in names
    ]
    return problems
