"""Each tenant schema's applied migrations of its apps, judged against the code.

One statement lists the tenants, one reads a digest of every schema's ``django_migrations``
(:data:`SLICE` schemas per evaluation, the next ones in turn past that many: a fresh
connection opens each schema's table, about 0.25 ms apiece on the server), and one
reads the rows of one schema for each state not judged yet in this process: three statements
whatever the number of tenants, two once every state is known. Findings: ``E112`` schemas
behind, ``W113`` schemas ahead of the code, ``E114`` tenants with no migrated schema, each
naming the schemas and saying how many of how many; ``I115`` while some were not read yet.
"""

from __future__ import annotations

from django.db import connections

from health_deep import backends, conf, memo, tenants
from health_deep.findings import Finding
from health_deep.history import integrity
from health_deep.history.graph import CodeFacts
from health_deep.tenants import Kind, Tenancy
from health_deep.tenants.survey import Survey, representatives

SLICE = 500  # schemas read per evaluation: ~0.25 ms each on a fresh connection
MAX_STATES = 50  # states judged per evaluation; the rest wait for the next one
ABSENT = "absent"  # the digest of a tenant with no migrated schema


def survey(alias: str) -> Survey:
    return memo.cached(f"migrations:tenant-survey:{alias}", Survey)


def findings(tenancy: Tenancy, facts: CodeFacts, *, complete: bool = False) -> list[Finding]:
    """The tenant schemas' migration findings. ``complete`` reads every schema now (the
    command, the system checks); a probe reads the next slice. Runs inside the caller's
    guarded transaction on ``tenancy.alias``."""
    connection = connections[tenancy.alias]
    backend = backends.get(connection.vendor)
    ignored = set(conf.get().ignore_apps)
    known = survey(tenancy.alias)
    with known.lock, connection.cursor() as cursor:
        every = tenants.schemas(tenancy)
        known.keep_only(every)
        names = list(every)
        parts = _parts(names) if complete else [known.next_slice(names, SLICE)]
        for part in parts:
            apps = {s: sorted(every[s].apps - ignored) for s in part}
            digests = backend.migration_digests(cursor, apps)
            known.read({s: (every[s].name, digests.get(s, ABSENT)) for s in part})
        waiting = known.waiting()
        for state in waiting:
            if state[1] == ABSENT:
                known.judged(state, ())
        chosen = representatives(known, [s for s in waiting if s[1] != ABSENT], MAX_STATES)
        rows = backend.applied_migrations(
            cursor, {s: sorted(every[s].apps - ignored) for s in chosen}
        )
        for schema, state in chosen.items():
            known.judged(state, _judge(tenancy, facts, every[schema], rows[schema]))
        groups = known.groups()
        unknown = known.unknown(names)
        broken = [
            s
            for state, group in groups
            if known.verdicts[state] or state[1] == ABSENT
            for s in group[:3]
        ]
        domains = tenants.primary_domains(tenancy, broken)
    found: list[Finding] = []
    for state, group in groups:
        if state[1] == ABSENT:
            found.append(_missing(tenancy, group, len(names), domains))
        else:
            found += _wrapped(tenancy, known.verdicts[state], group, len(names), domains)
    if unknown:
        found.append(
            tenants.not_yet(
                "health_deep.I115", tenancy, unknown, of=len(names), done="read", per=SLICE
            )
        )
    return found


def _parts(names: list[str]) -> list[list[str]]:
    return [names[i : i + SLICE] for i in range(0, len(names), SLICE)] or [[]]


def _judge(
    tenancy: Tenancy, facts: CodeFacts, kind: Kind, recorded: set[tuple[str, str]]
) -> list[Finding]:
    ignored = set(conf.get().ignore_apps)
    return integrity.evaluate(
        alias=tenancy.alias,
        facts=facts,
        recorded=recorded,
        ledger=None,
        include_app=lambda app: app in kind.apps and app not in ignored,
    )


# The shared-schema finding, the tenant one it becomes, its details key, what it says, the hint.
_VERDICTS = (
    (
        "health_deep.E101",
        "health_deep.E112",
        "unapplied",
        "lack {n} migration(s)",
        "Run {migrate} and read where it stopped.",
    ),
    (
        "health_deep.W102",
        "health_deep.W113",
        "unknown",
        "record {n} migration(s) the code does not have",
        "A newer release migrated them, or a migration file was removed.",
    ),
)

MIGRATE = {
    "django-tenants": "`manage.py migrate_schemas` (django-tenants)",
    "django-pgschemas": "`manage.py migrate` (django-pgschemas migrates every schema)",
}


def _wrapped(
    tenancy: Tenancy,
    inner: tuple[Finding, ...],
    group: list[str],
    of: int,
    domains: dict[str, str],
) -> list[Finding]:
    found = []
    for inner_id, fid, key, what, hint in _VERDICTS:
        names = [f.object for f in inner if f.id == inner_id]
        if names:
            found.append(
                tenants.finding(
                    fid,
                    tenancy,
                    group,
                    of=of,
                    domains=domains,
                    says=f"{what.format(n=len(names))}: {', '.join(names[:5])}.",
                    hint=hint.format(migrate=MIGRATE.get(tenancy.library.name, "the migration")),
                    details={key: names},
                )
            )
    return found


def _missing(tenancy: Tenancy, missing: list[str], of: int, domains: dict[str, str]) -> Finding:
    return tenants.finding(
        "health_deep.E114",
        tenancy,
        missing,
        of=of,
        domains=domains,
        says="do not exist, or were never migrated.",
        hint="Create and migrate it, or remove the tenant.",
    )
