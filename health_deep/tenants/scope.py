"""Whose findings a probe answers for on a schema-per-tenant site (no I/O).

Every tenant finding names all the schemas it is about (``details['schemas']``). On the shared
schema's host a probe answers for the whole site: every tenant's findings count. On a tenant's
own host (the request routed to its schema by the library's middleware) it answers for that
tenant: the shared schema's findings and that tenant's own, not the other tenants'.

Blast radius: the schemas are the same for every instance of the site, so one broken tenant
taking every instance out of the load balancer would serve no tenant at all. Readiness fails
on tenants' own findings only when more than ``TENANTS_READY_SHARE`` of them are broken.
"""

from __future__ import annotations

from collections.abc import Iterable

from health_deep.findings import Finding, Severity

# Findings about some tenants' schemas, each naming them.
TENANT_OWN = frozenset(
    {
        "health_deep.E112",
        "health_deep.W113",
        "health_deep.E114",
        "health_deep.E225",
        "health_deep.W226",
        "health_deep.E308",
    }
)


def seen_from(findings: list[Finding], schema: str | None) -> list[Finding]:
    """``findings`` as a probe on ``schema``'s host answers for them (None: the shared
    schema's host, every finding: the same list, as a cached probe needs no copy)."""
    if schema is None:
        return findings
    return [f for f in findings if f.id not in TENANT_OWN or schema in f.details["schemas"]]


def only_some_tenants(findings: Iterable[Finding], *, share: float) -> bool:
    """True when every critical finding is some tenants' own and, on each database, they
    name no more than ``share`` of its tenants."""
    critical = [f for f in findings if f.severity is Severity.CRITICAL]
    if not critical or not all(f.id in TENANT_OWN for f in critical):
        return False
    broken: dict[str, set[str]] = {}
    of: dict[str, int] = {}
    for f in critical:
        # A tenant broken in two ways (behind, and a query failing) counts once.
        broken.setdefault(f.alias, set()).update(f.details["schemas"])
        of[f.alias] = max(of.get(f.alias, 0), int(f.details["tenants"]))
    return all(of[alias] and len(broken[alias]) <= share * of[alias] for alias in broken)
