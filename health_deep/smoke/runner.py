"""The smoke check as the site runs it: discover once, plan once, run under the deadline.

Discovery and planning depend only on the code and are kept per process; each run executes
the planned queries (``execution``) and reports coverage.
"""

from __future__ import annotations

import dataclasses
import logging
import time

from django.db import DatabaseError

from health_deep import acknowledge, conf, dbguard, tenants
from health_deep.findings import Finding
from health_deep.smoke import discovery, execution, registry
from health_deep.smoke import tenants as tenant_smoke
from health_deep.smoke.discovery import Endpoint
from health_deep.smoke.planning import as_planned, planned, smoke_endpoints, smoke_plan

__all__ = ["smoke_endpoints", "smoke_findings", "smoke_plan", "smoke_problems"]

logger = logging.getLogger("health_deep")


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
    findings = list(outcome.findings) + list(planned().findings)
    tenancy = tenants.get()
    in_tenants: tenant_smoke.Coverage | None = None
    if tenancy is not None:
        # What the shared schema's queries left of a probe's deadline; the command gives the
        # tenants' schemas a whole SMOKE_DEADLINE of their own.
        left = budget if deadline is None else max(0.0, budget - (time.monotonic() - started))
        found, in_tenants = tenant_smoke.findings(
            tenancy, deadline=left, timeout=config.statement_timeout, complete=deadline is None
        )
        findings += found
    if endpoints or (in_tenants and in_tenants.queries):  # else nothing is worth a line
        findings.append(_coverage(as_planned(endpoints), queries, in_tenants))
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


def _coverage(
    endpoints: list[Endpoint],
    queries: list[execution.Query],
    in_tenants: tenant_smoke.Coverage | None = None,
) -> Finding:
    covered = [e.label for e in endpoints if e.covered]
    recorded = [e.label for e in endpoints if e.source == discovery.RECORDED]
    base_only = [
        {"endpoint": e.label, "view": e.view, "reason": e.reason}
        for e in endpoints
        if e.query is not None and not e.covered
    ]
    missing = [
        {"endpoint": e.label, "view": e.view, "reason": e.reason}
        for e in endpoints
        if e.query is None and not e.covered
    ]
    details: dict[str, object] = {
        "covered": covered,
        "recorded": recorded,
        "base_queryset_only": base_only,
        "not_covered": missing,
    }
    tenant_part = ""
    if in_tenants is not None:
        tenant_part = (
            f" Tenant-only apps' {in_tenants.queries} query(ies) ran in {in_tenants.ran} of "
            f"{in_tenants.of} tenant schema(s) in this process."
        )
        details["tenant_schemas"] = dataclasses.asdict(in_tenants)
    return Finding(
        id="health_deep.I305",
        alias="",
        object=f"{len(endpoints)} endpoint(s)",
        message=f"{len(covered)} of {len(endpoints)} endpoint(s) covered by "
        f"{len(queries) + (in_tenants.queries if in_tenants else 0)} smoke query(ies)"
        + (f" ({len(recorded)} by their recorded queries)" if recorded else "")
        + "; "
        f"{len(base_only)} only by their base queryset (their own get_queryset() runs "
        f"something else); {len(missing)} not covered.{tenant_part}",
        hint="Cover the others with @smoke_query on the view or HEALTH_DEEP['SMOKE_QUERIES'].",
        details=details,
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
