"""Schema drift inside each tenant's schema, and tenant tables left in the shared one.

One statement lists the tenants, one reads a digest of every schema's catalog entries for the
tables its models name (in slices of about :data:`TABLE_BUDGET` tables, one per evaluation in
turn), and one reads the whole catalog of one schema per state not judged yet in this
process, compared with the models by the shared schema's own rules
(:func:`health_deep.schema.compare.compare`). A tenant's critical drift is ``E225``, its
warnings ``W226``, each naming the schemas in that state; ``I228`` while some schemas were not
compared yet. A tenant-only app's table in the shared schema is ``W227``: a tenant schema that
lacks it would read and write that one, shared by every tenant.
"""

from __future__ import annotations

from django.apps import apps
from django.db import connections

from health_deep import backends, conf, memo, tenants
from health_deep.findings import Finding, Severity
from health_deep.schema import compare, expected
from health_deep.schema.model import Catalog, ExpectedTable
from health_deep.tenants import Kind, Tenancy
from health_deep.tenants.survey import Survey, representatives

TABLE_BUDGET = 2000  # tables whose catalog entries one evaluation reads (~0.1 s on the server)
MAX_STATES = 20  # catalogs compared per evaluation; the rest wait for the next one
ABSENT = "absent"  # none of its tables: a tenant with no schema, the migration check's E114
_OWN_TABLES = ("django_migrations",)


def survey(alias: str) -> Survey:
    return memo.cached(f"schema:tenant-survey:{alias}", Survey)


def expected_tables(tenancy: Tenancy, kind: Kind) -> list[ExpectedTable]:
    """The tables the models of ``kind``'s apps need in each of its schemas, as the site's
    routers see such a schema (computed once per process)."""

    def compute() -> list[ExpectedTable]:
        others = {c.label for c in apps.get_app_configs()} - kind.apps
        ignored = [*conf.get().ignore_apps, *others]
        # Any tenant schema's name will do: the routers ask which kind, not which tenant.
        with tenants.inside(tenancy, kind.fixed[0] if kind.fixed else "health_deep", kind):
            return expected.expected_tables(tenancy.alias, ignore_apps=ignored)

    return memo.cached(f"schema:{tenancy.alias}:tenant:{kind.name}", compute)


def findings(tenancy: Tenancy, *, complete: bool = False) -> list[Finding]:
    """The tenant schemas' drift findings. ``complete`` reads every schema now (the command,
    the system checks); a probe reads the next slice. Runs inside the caller's guarded
    transaction on ``tenancy.alias``."""
    connection = connections[tenancy.alias]
    backend = backends.get(connection.vendor)
    wanted = {k.name: expected_tables(tenancy, k) for k in tenancy.kinds}
    tables = {
        name: [t.name for t in found if t.schema is None] + list(_OWN_TABLES)
        for name, found in wanted.items()
    }
    known = survey(tenancy.alias)
    with known.lock, connection.cursor() as cursor:
        every = tenants.schemas(tenancy)
        known.keep_only(every)
        names = list(every)
        size = max(1, TABLE_BUDGET // max(len(t) for t in tables.values()))
        parts = (
            [names[i : i + size] for i in range(0, len(names), size)]
            if complete
            else [known.next_slice(names, size)]
        )
        for part in parts:
            digests = backend.catalog_digests(cursor, {s: tables[every[s].name] for s in part})
            known.read({s: (every[s].name, digests.get(s, ABSENT)) for s in part})
        waiting = known.waiting()
        for state in waiting:
            if state[1] == ABSENT:
                known.judged(state, ())
        chosen = representatives(known, [s for s in waiting if s[1] != ABSENT], MAX_STATES)
        catalogs = backend.read_schema_catalogs(cursor, list(chosen)) if chosen else {}
        for schema, state in chosen.items():
            known.judged(state, _compare(tenancy, wanted[state[0]], catalogs[schema]))
        groups = [(state, group) for state, group in known.groups() if known.verdicts[state]]
        unknown = known.unknown(names)
        domains = tenants.primary_domains(tenancy, [s for _, g in groups for s in g[:3]])
    found: list[Finding] = []
    for state, group in groups:
        found += _wrapped(tenancy, known.verdicts[state], group, len(names), domains)
    if unknown:
        found.append(
            tenants.not_yet(
                "health_deep.I228",
                tenancy,
                unknown,
                of=len(names),
                done="compared with the models",
                per=size,
            )
        )
    return found


def _compare(tenancy: Tenancy, wanted: list[ExpectedTable], catalog: Catalog) -> list[Finding]:
    # A tenant's extra tables, columns and indexes are its own business (info on the shared
    # schema): only what the code needs counts here.
    return [
        f
        for f in compare.compare(
            alias=tenancy.alias, expected=wanted, catalog=catalog, ignore_tables=_OWN_TABLES
        )
        if f.severity > Severity.INFO
    ]


def _wrapped(
    tenancy: Tenancy,
    inner: tuple[Finding, ...],
    group: list[str],
    of: int,
    domains: dict[str, str],
) -> list[Finding]:
    found = []
    for severity, fid, what in (
        (Severity.CRITICAL, "health_deep.E225", "cannot serve the models"),
        (Severity.WARNING, "health_deep.W226", "differ from the models"),
    ):
        mine = [f for f in inner if f.severity is severity]
        if not mine:
            continue
        listed = "; ".join(f"{f.id.removeprefix('health_deep.')} {f.object}" for f in mine[:5])
        more = f" and {len(mine) - 5} more" if len(mine) > 5 else ""
        found.append(
            tenants.finding(
                fid,
                tenancy,
                group,
                of=of,
                domains=domains,
                says=f"{what}: {listed}{more}.",
                hint="Each tenant schema was read apart; the findings are the shared schema's "
                "(see their ids). Compare the schema with `manage.py sqlmigrate`, and migrate it.",
                details={
                    "findings": [
                        {"id": f.id, "object": f.object, "message": f.message} for f in mine
                    ]
                },
            )
        )
    return found


def in_shared_schema(tenancy: Tenancy, live: Catalog, shared: list[ExpectedTable]) -> list[str]:
    """The tenant-only apps' tables found in the shared schema's catalog."""
    mine = {t.name for t in shared}
    return sorted(
        {
            t.name
            for kind in tenancy.kinds
            for t in expected_tables(tenancy, kind)
            if t.schema is None and t.name not in mine and live.table(t.name) is not None
        }
    )


def shared_finding(tenancy: Tenancy, names: list[str]) -> Finding:
    """``W227``: tenant tables in the shared schema."""
    return Finding(
        id="health_deep.W227",
        alias=tenancy.alias,
        object=f"{len(names)} table(s) in {tenancy.public}",
        message=f"{len(names)} table(s) of tenant-only apps exist in the shared schema "
        f"'{tenancy.public}': {', '.join(names[:5])}"
        + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        + ". A tenant schema that lacks one reads and writes this one, shared by every tenant.",
        hint="Usually `migrate` was run where the library's own command was meant. Check that "
        "they hold no rows, then drop them.",
        details={"tables": names, "schema": tenancy.public},
    )
