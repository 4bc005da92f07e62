"""How long ``migrate`` blocks the site: each pending statement's long lock weighed by the size
of the table it holds it on. Plain data in, findings out.

Linters judge these statements from the SQL alone and warn on an index on an empty lookup table
as loudly as on a fifty-gigabyte one; the plan knows the production table's size (the catalog's
estimate): a lock held while a small table is scanned is over before anyone waits on it, and is
not reported. Without a database (``lock --check``) the sizes are unknown and said so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from health_deep.backends.base.locks import Lock, Size
from health_deep.findings import Finding
from health_deep.rollout.judge import Cause


@dataclasses.dataclass(frozen=True)
class Thresholds:
    warn_rows: int
    critical_rows: int


@dataclasses.dataclass(frozen=True)
class Held:
    """The long locks one pending operation takes."""

    step: Cause
    locks: tuple[Lock, ...]
    statements: tuple[str, ...] = ()


def judge(
    *,
    alias: str,
    held: Iterable[Held],
    sizes: Mapping[str, Size] | None,
    new_tables: set[str],
    thresholds: Thresholds,
    lock_limit: float | None,
    vendor: str,
    unknown: str = "no database was asked: `health_deep plan` weighs it against the table's "
    "real size",
) -> list[Finding]:
    """``E412``/``W413`` for long locks on tables over the thresholds, ``W414`` when migrate
    has no lock timeout for them, ``W415`` for every long lock when the sizes are unknown
    (``sizes`` None). Tables the pending migrations create hold no rows yet: never reported."""
    findings: list[Finding] = []
    for each in held:
        for table, locks in _by_table(each.locks).items():
            if table in new_tables:
                continue
            if sizes is None:
                findings.append(_unknown(alias, each, table, locks, unknown))
                continue
            size = sizes.get(table)
            if size is None:
                continue  # not in the database: made by the plan, or in another schema
            rows = size.rows_or_guess()
            if rows >= thresholds.critical_rows:
                findings.append(_weighed("health_deep.E412", alias, each, table, locks, size))
            elif rows >= thresholds.warn_rows:
                findings.append(_weighed("health_deep.W413", alias, each, table, locks, size))
    if sizes is not None and lock_limit is None:
        weighed = [f for f in findings if f.id in ("health_deep.E412", "health_deep.W413")]
        if weighed:
            findings.append(_no_lock_timeout(alias, weighed, vendor))
    return findings


def _by_table(locks: Iterable[Lock]) -> dict[str, list[Lock]]:
    grouped: dict[str, list[Lock]] = {}
    for lock in locks:
        grouped.setdefault(lock.table, []).append(lock)
    return grouped


def _worst(locks: list[Lock]) -> Lock:
    return max(locks, key=lambda lock: (lock.blocks == "reads and writes", lock.work))


def _what(locks: list[Lock], size: str) -> str:
    """'CREATE INDEX takes SHARE on t (about N rows, ...): writes to it wait for the whole
    index build'."""
    lock = _worst(locks)
    kinds = " and ".join(dict.fromkeys(x.statement for x in locks))
    works = " and ".join(dict.fromkeys(x.work for x in locks))
    also = sorted({t for x in locks for t in x.also} - {lock.table})
    target = f" (and on {', '.join(also)}, for as long)" if also else ""
    return (
        f"{kinds} takes {lock.lock} on {lock.table}{size}{target}: {lock.blocks} to it wait "
        f"for the whole {works}"
    )


def _details(each: Held, table: str, locks: list[Lock]) -> dict[str, object]:
    lock = _worst(locks)
    return {
        "migration": ".".join(each.step.migration),
        "operation": each.step.text,
        "table": table,
        "lock": lock.lock,
        "blocks": lock.blocks,
        "work": sorted({x.work for x in locks}),
        "statements": sorted({x.statement for x in locks}),
        "also": sorted({t for x in locks for t in x.also}),
        "sql": [s[:300] for s in each.statements][:10],
    }


def _rows(size: Size) -> str:
    on_disk = f", {size.bytes / 2**20:,.0f} MiB" if size.bytes is not None else ""
    return f" (about {size.rows_or_guess():,} rows{on_disk}; estimated: {size.estimate})"


def _weighed(
    fid: str, alias: str, each: Held, table: str, locks: list[Lock], size: Size
) -> Finding:
    return Finding(
        id=fid,
        alias=alias,
        object=f"{each.step.where} on {table}",
        message=f"{each.step.where} ({each.step.text}): {_what(locks, _rows(size))}.",
        hint=" ".join(dict.fromkeys(x.safe for x in locks)),
        details={
            **_details(each, table, locks),
            "rows": size.rows,
            "bytes": size.bytes,
            "estimate": size.estimate,
        },
    )


def not_weighed(alias: str, why: str) -> Finding:
    """``W415`` for the whole plan: its long locks could not be told at all."""
    return Finding(
        id="health_deep.W415",
        alias=alias,
        object="pending migrations",
        message=f"The pending migrations' locks were not weighed: {why}.",
        hint="Run the plan again when the database answers (a migration or a long query may "
        "hold a lock on its catalog).",
        details={"rows": None},
    )


def _unknown(alias: str, each: Held, table: str, locks: list[Lock], why: str) -> Finding:
    return Finding(
        id="health_deep.W415",
        alias=alias,
        object=f"{each.step.where} on {table}",
        message=f"{each.step.where} ({each.step.text}): {_what(locks, ' (size unknown)')}; {why}.",
        hint=" ".join(dict.fromkeys(x.safe for x in locks)),
        details={**_details(each, table, locks), "rows": None},
    )


_LOCK_TIMEOUT = {
    "postgresql": "Give migrate a lock timeout and retry it when it runs out: a DATABASES entry "
    "for migrate with OPTIONS={'options': '-c lock_timeout=5s'}, or "
    "django-pg-zero-downtime-migrations (ZERO_DOWNTIME_MIGRATIONS_LOCK_TIMEOUT).",
    "mysql": "Give migrate a lock timeout and retry it when it runs out: OPTIONS="
    "{'init_command': 'SET SESSION lock_wait_timeout = 5'} on a DATABASES entry for migrate.",
}


def _no_lock_timeout(alias: str, weighed: list[Finding], vendor: str) -> Finding:
    tables = sorted({str(f.details["table"]) for f in weighed})
    return Finding(
        id="health_deep.W414",
        alias=alias,
        object=f"migrate on '{alias}'",
        message=f"migrate runs with no lock timeout: before its long locks on "
        f"{', '.join(tables)} it waits behind any long query or open transaction on "
        f"{'that table' if len(tables) == 1 else 'those tables'}, and every query on "
        f"{'it' if len(tables) == 1 else 'them'} waits behind it meanwhile.",
        hint=_LOCK_TIMEOUT.get(vendor, "Give migrate's session a lock timeout."),
        details={"tables": tables},
    )
