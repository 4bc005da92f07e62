"""The migration integrity rules: plain data in, findings out. No database, no HTTP."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Iterable, Mapping

from health_deep.findings import Finding
from health_deep.history.fingerprint import ALGORITHM, unchanged
from health_deep.history.graph import CodeFacts, Key


@dataclasses.dataclass(frozen=True)
class LedgerRow:
    """One row of the fingerprint ledger, as read from the database."""

    fingerprint: str | None  # None when the stored value is not text (a damaged row)
    source: str
    recorded_at: datetime.datetime | None = None
    recorded_by: str = ""
    reason: str = ""


def _name(key: Key) -> str:
    return f"{key[0]}.{key[1]}"


def evaluate(
    *,
    alias: str,
    facts: CodeFacts,
    recorded: set[Key],
    ledger: Mapping[Key, LedgerRow] | None,
    include_app: Callable[[str], bool] = lambda app: True,
) -> list[Finding]:
    """Compare the migrations on disk with those recorded (and fingerprinted) on ``alias``."""
    recorded = {key for key in recorded if include_app(key[0])}
    findings = _unapplied(alias, facts, recorded, include_app)
    findings += _unknown(alias, facts, recorded)
    if ledger is not None:
        findings += _edited(alias, facts, recorded, ledger)
    return findings


def _is_applied(key: Key, facts: CodeFacts, recorded: set[Key]) -> bool:
    if key in recorded:
        return True
    replaced = facts.replaces.get(key, ())
    return bool(replaced) and all(r in recorded for r in replaced)


def _unapplied(
    alias: str, facts: CodeFacts, recorded: set[Key], include_app: Callable[[str], bool]
) -> list[Finding]:
    missing = sorted(
        key for key in facts.nodes if include_app(key[0]) and not _is_applied(key, facts, recorded)
    )
    return [
        Finding(
            id="health_deep.E101",
            alias=alias,
            object=_name(key),
            message=f"Migration {_name(key)} is not applied to database '{alias}'.",
            hint=f"Run `manage.py migrate --database {alias}` before this code takes traffic.",
        )
        for key in missing
    ]


def _unknown(alias: str, facts: CodeFacts, recorded: set[Key]) -> list[Finding]:
    known = facts.fingerprints.keys() | facts.replaced
    return [
        Finding(
            id="health_deep.W102",
            alias=alias,
            object=_name(key),
            message=f"Migration {_name(key)} is recorded in '{alias}' but not found in the code.",
            hint="Normal while an older release still runs during a rolling deploy; otherwise "
            "the code is older than the database, or the migration file was renamed or deleted.",
        )
        for key in sorted(recorded - known)
    ]


def edited(
    *, alias: str, facts: CodeFacts, recorded: set[Key], ledger: Mapping[Key, LedgerRow]
) -> list[Finding]:
    """The ledger's findings alone: applied migrations edited since (``E103``), and what
    keeps an edit from being told."""
    return _edited(alias, facts, recorded, ledger)


def _edited(
    alias: str, facts: CodeFacts, recorded: set[Key], ledger: Mapping[Key, LedgerRow]
) -> list[Finding]:
    findings: list[Finding] = []
    unverified: list[str] = []
    old_algorithm: list[str] = []
    adopted: list[str] = []
    damaged: list[str] = []
    for key in sorted(recorded & facts.fingerprints.keys()):
        row = ledger.get(key)
        if row is None:
            unverified.append(_name(key))
            continue
        current = facts.fingerprints[key]
        if row.fingerprint is None:
            damaged.append(_name(key))
        elif not row.fingerprint.startswith(f"{ALGORITHM}:"):
            old_algorithm.append(_name(key))
        elif not unchanged(row.fingerprint, current):
            findings.append(_edited_finding(alias, key, row, current))
        elif row.source == "accepted":
            findings.append(_accepted_finding(alias, key, row))
        if row.source == "adopted":
            adopted.append(_name(key))
    if unverified:
        findings.append(
            _group(
                "health_deep.I104",
                alias,
                unverified,
                "applied migration(s) have no fingerprint yet, so an edit "
                "to them cannot be detected.",
                f"Run `manage.py migrate --database {alias}` once (it applies "
                "nothing new) to record their fingerprints.",
            )
        )
    if damaged:
        findings.append(
            _group(
                "health_deep.W110",
                alias,
                damaged,
                "ledger row(s) hold no readable fingerprint (not text, or "
                "NULL), so an edit to their migration(s) cannot be detected.",
                f"The next `manage.py migrate --database {alias}` records them "
                "again as a baseline.",
            )
        )
    if old_algorithm:
        findings.append(
            _group(
                "health_deep.I107",
                alias,
                old_algorithm,
                f"fingerprint(s) were recorded by an older algorithm than "
                f"'{ALGORITHM}' and cannot be compared.",
                "The next `manage.py migrate` records them again.",
            )
        )
    if adopted:
        findings.append(
            _group(
                "health_deep.I105",
                alias,
                adopted,
                "migration(s) were applied before health_deep was installed; "
                "their fingerprints were adopted as the baseline.",
                "An edit made before adoption cannot be detected.",
            )
        )
    return findings


def _edited_finding(alias: str, key: Key, row: LedgerRow, current: str) -> Finding:
    when = row.recorded_at.isoformat() if row.recorded_at else "unknown time"
    return Finding(
        id="health_deep.E103",
        alias=alias,
        object=_name(key),
        message=f"Migration {_name(key)} was edited after it was applied to '{alias}': the "
        "database was migrated with a different version, so the change never reached it.",
        hint="Revert the edit and put the change in a new migration. If the database already "
        f"matches the edited version, accept it: `manage.py health_deep accept {_name(key)} "
        f"--database {alias} --reason '...'`.",
        details={
            "recorded_fingerprint": row.fingerprint,
            "current_fingerprint": current,
            "recorded_at": when,
            "recorded_as": row.source,
        },
    )


def _accepted_finding(alias: str, key: Key, row: LedgerRow) -> Finding:
    when = row.recorded_at.isoformat() if row.recorded_at else "unknown time"
    who = row.recorded_by or "unknown"
    return Finding(
        id="health_deep.I109",
        alias=alias,
        object=_name(key),
        message=f"An edit of {_name(key)} was accepted by {who} at {when}.",
        hint=row.reason,
        details={"accepted_by": who, "accepted_at": when, "reason": row.reason},
    )


def _group(fid: str, alias: str, names: Iterable[str], what: str, hint: str) -> Finding:
    names = list(names)
    return Finding(
        id=fid,
        alias=alias,
        object=f"{len(names)} migration(s)",
        message=f"{len(names)} {what}",
        hint=hint,
        details={"migrations": names},
    )
