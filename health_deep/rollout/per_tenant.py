"""The deploy plan on a schema-per-tenant site: every tenant schema's applied migrations are
a release of their own.

``migrate_schemas`` (or django-pgschemas' ``migrate``) applies the pending migrations schema
by schema while the running release serves every tenant. Tenant schemas in the same migration
state share one judgement (the running release's models against what the pending migrations
leave, by the shared schema's rules), read in two statements whatever the number of tenants;
tenant schemas of one kind in different states are themselves a finding (``W411``). The data
preflight counts each tenant schema's own rows, within the plan's one budget: when it runs out,
the schemas not counted are said (``W410``), never taken for clean.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from django.db import connections

from health_deep import backends, conf, dbguard, tenants
from health_deep.findings import Finding
from health_deep.history.graph import Key
from health_deep.rollout import preflight
from health_deep.rollout.releases import Releases, build
from health_deep.tenants import Kind, Tenancy

MAX_STATES = 200  # migration states judged; a site with more is told so


@dataclasses.dataclass(frozen=True)
class TenantState:
    """Tenant schemas of one kind with the same applied migrations, and what is pending."""

    kind: str
    schemas: list[str]
    pending: list[Key]


Judge = Callable[[Releases, Kind], list[Finding]]
Weigh = Callable[[Releases, Kind, list[str]], list[Finding]]


def against_tenants(
    tenancy: Tenancy, loader: Any, *, ends: float, judge: Judge, weigh: Weigh
) -> tuple[list[TenantState], list[Finding]]:
    """Every tenant schema's pending migrations, judged per state; rows counted per schema
    until ``ends`` (monotonic)."""
    connection = connections[tenancy.alias]
    backend = backends.get(connection.vendor)
    labels = sorted({key[0] for key in loader.graph.nodes})
    with dbguard.guarded(tenancy.alias, timeout=conf.get().statement_timeout) as cursor:
        every = tenants.schemas(tenancy)
        digests = backend.migration_digests(cursor, {s: labels for s in every})
        groups: dict[tuple[str, str], list[str]] = {}
        for schema, kind in every.items():
            if schema in digests:  # a tenant with no schema yet: migrate makes it whole
                groups.setdefault((kind.name, digests[schema]), []).append(schema)
        ordered = sorted(groups.values(), key=len, reverse=True)
        looked = ordered[:MAX_STATES]
        rows = backend.applied_migrations(cursor, {g[0]: labels for g in looked})
    states: list[TenantState] = []
    findings: list[Finding] = []
    for group in looked:
        kind = every[group[0]]
        releases = build(loader, rows[group[0]])
        pending = [key for key in releases.pending if key[0] in kind.apps]
        states.append(TenantState(kind.name, group, pending))
        if not pending:
            continue
        with tenants.inside(tenancy, group[0], kind):
            judged = judge(releases, kind) + weigh(releases, kind, group)
        findings += [_about(f, group, len(every)) for f in judged]
        asked = [
            q
            for q in preflight.questions(releases, vendor=connection.vendor)
            if q.model._meta.app_label in kind.apps
        ]
        findings += _counted(tenancy, kind, group, asked, ends=ends, of=len(every))
    findings += _apart(tenancy, states, len(every))
    if len(ordered) > MAX_STATES:
        left = sum(len(g) for g in ordered[MAX_STATES:])
        findings.append(
            Finding(
                id="health_deep.W410",
                alias=tenancy.alias,
                object=f"{left} tenant schema(s)",
                message=f"{left} tenant schema(s) in {len(ordered) - MAX_STATES} further "
                "migration states were not judged.",
                hint="Bring the tenants to fewer states (migrate them) and plan again.",
                details={"schemas": [s for g in ordered[MAX_STATES:] for s in g][:100]},
            )
        )
    return states, findings


def _about(finding: Finding, group: list[str], of: int) -> Finding:
    """A finding of the plan, as it holds in the tenant schemas of ``group``."""
    shown = tenants.named(group)
    return dataclasses.replace(
        finding,
        message=f"In {len(group)} of {of} tenant schema(s) ({shown}): {finding.message}",
        details={**finding.details, "schemas": group, "tenants": of},
    )


def _counted(
    tenancy: Tenancy,
    kind: Kind,
    group: list[str],
    asked: list[preflight.Question],
    *,
    ends: float,
    of: int,
) -> list[Finding]:
    """Each question counted in each schema of ``group`` while the budget lasts: one finding
    per question and outcome, naming the schemas (their rows in details)."""
    if not asked:
        return []
    found: dict[tuple[str, str, str], list[tuple[str, Finding]]] = {}
    counted = 0
    for schema in group:
        left = ends - time.monotonic()
        if left <= 0:
            break
        with tenants.inside(tenancy, schema, kind):
            answers = preflight.ask(
                tenancy.alias, asked, budget=left, search_path=tenancy.search_path(schema)
            )
        counted += 1
        for answer in answers:
            key = (answer.id, answer.object, answer.message.split(":", 1)[0])
            found.setdefault(key, []).append((schema, answer))
    merged = []
    for hits in found.values():
        first = hits[0][1]
        schemas = [schema for schema, _ in hits]
        merged.append(
            dataclasses.replace(
                first,
                message=f"In {len(schemas)} of {len(group)} tenant schema(s) counted "
                f"({tenants.named(schemas)}): {first.message}",
                details={
                    **first.details,
                    "schemas": schemas,
                    "tenants": of,
                    "rows": {schema: f.details.get("rows") for schema, f in hits},
                },
            )
        )
    if counted < len(group):
        skipped = group[counted:]
        merged.append(
            Finding(
                id="health_deep.W410",
                alias=tenancy.alias,
                object=f"{len(skipped)} tenant schema(s)",
                message=f"The rows of {len(skipped)} of {len(group)} tenant schema(s) in this "
                f"state were not counted: the budget ran out ({tenants.named(skipped)}).",
                hint="Run the plan with a larger --budget, or count those tenants apart.",
                details={"schemas": skipped[:100], "counted": counted, "tenants": of},
            )
        )
    return merged


def _apart(tenancy: Tenancy, states: list[TenantState], of: int) -> list[Finding]:
    """``W411``: tenant schemas of one kind at different migration states."""
    found = []
    for kind in tenancy.kinds:
        mine = [s for s in states if s.kind == kind.name]
        if len(mine) < 2:
            continue
        described = "; ".join(
            f"{len(s.schemas)} schema(s) ({tenants.named(s.schemas)}) with {len(s.pending)} pending"
            for s in mine[:5]
        )
        found.append(
            Finding(
                id="health_deep.W411",
                alias=tenancy.alias,
                object=f"{len(mine)} migration states",
                message=f"The tenant schemas{f' of kind {kind.name}' if kind.name else ''} are "
                f"at {len(mine)} different migration states: {described}.",
                hint="A migrate that stopped partway leaves tenants apart: the running release "
                "already serves some of them on a schema it was not made for.",
                details={
                    "states": [
                        {"schemas": s.schemas[:100], "pending": [".".join(k) for k in s.pending]}
                        for s in mine
                    ],
                    "tenants": of,
                },
            )
        )
    return found
