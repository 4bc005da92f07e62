"""Findings as data, and the registry of every finding id health_deep can emit.

A finding is rendered late: the same object feeds the HTTP view, the management command and
Django's system checks. Ids are stable: never renumber or reuse one. The letter says the
severity (E critical, W warning, I info); the hundreds say the area (0xx configuration and
connectivity, 1xx migrations, 2xx schema, 3xx smoke queries, 4xx the deploy plan).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping
from typing import Any


class Severity(enum.IntEnum):
    """How bad a finding is. Only CRITICAL turns a health endpoint into 503."""

    INFO = 10
    WARNING = 20
    CRITICAL = 30

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclasses.dataclass(frozen=True)
class Kind:
    """One registered finding id: its severity and a one-line title for docs and summaries."""

    id: str
    severity: Severity
    title: str


_LETTER = {"E": Severity.CRITICAL, "W": Severity.WARNING, "I": Severity.INFO}


def _registry(*kinds: tuple[str, str]) -> dict[str, Kind]:
    table: dict[str, Kind] = {}
    for code, title in kinds:
        full = f"health_deep.{code}"
        if full in table:  # pragma: no cover - guards the table below
            raise ValueError(f"duplicate finding id {full}")
        table[full] = Kind(full, _LETTER[code[0]], title)
    return table


REGISTRY: dict[str, Kind] = _registry(
    # 0xx: configuration and connectivity
    ("E001", "HEALTH_DEEP setting is invalid"),
    ("E002", "database is unreachable"),
    ("E003", "check could not finish within its timeout"),
    ("E004", "check failed unexpectedly"),
    ("W005", "check is starting: its first verdict in this process is not ready yet"),
    ("I006", "warning acknowledged in HEALTH_DEEP['ACKNOWLEDGE']"),
    # 1xx: migration integrity
    ("E101", "migration on disk is not applied"),
    ("W102", "migration recorded in the database is unknown to the code"),
    ("E103", "applied migration was edited after it was applied"),
    ("I104", "applied migration has no fingerprint in the ledger yet"),
    ("I105", "applied migrations were adopted into the ledger as a baseline"),
    ("W106", "models have changes that no migration records"),
    ("I107", "ledger fingerprints use an older algorithm"),
    ("W108", "migration ledger table is missing or unreadable"),
    ("I109", "edited migration was accepted"),
    ("W110", "migration ledger rows are damaged"),
    ("I111", "the site's own makemigrations command gave no verdict"),
    ("E112", "tenant schemas lack migrations of the tenant apps"),
    ("W113", "tenant schemas record migrations the code does not have"),
    ("E114", "tenant has no migrated schema"),
    ("I115", "tenant schemas' migrations not read yet in this process"),
    # 2xx: schema drift
    ("E201", "table is missing"),
    ("E202", "column is missing"),
    ("E203", "column type cannot hold the field's values"),
    ("E204", "column is narrower than the field"),
    ("E205", "column is NOT NULL where the model allows NULL"),
    ("E206", "extra NOT NULL column without a default"),
    ("E207", "uniqueness rests on an INVALID index"),
    ("E208", "db_default is missing on a NOT NULL column"),
    ("W210", "column type is wider than, or differs compatibly from, the field's"),
    ("W211", "column is nullable where the model is not"),
    ("W212", "index is missing"),
    ("W213", "primary key or unique constraint is missing"),
    ("W214", "foreign key constraint is missing"),
    ("W215", "check or exclusion constraint is missing"),
    ("W216", "constraint the model does not know can reject writes"),
    ("W217", "constraint or index is not validated"),
    ("W218", "MySQL/MariaDB sql_mode is not strict: values that do not fit are cut silently"),
    ("W219", "column of an unmanaged model's table or view is missing"),
    ("I220", "extra nullable or defaulted column"),
    ("I221", "tables that no installed model knows"),
    ("I222", "index the model does not know"),
    ("I223", "schema check does not support this database backend"),
    ("I224", "table or view of an unmanaged model does not exist"),
    ("E225", "tenant schemas' tables cannot serve the models"),
    ("W226", "tenant schemas' tables differ from the models"),
    ("W227", "tenant-only app's table exists in the shared schema"),
    ("I228", "tenant schemas not compared with the models yet in this process"),
    # 3xx: smoke queries
    ("E301", "an endpoint's query fails"),
    ("E302", "an endpoint's query timed out or waited on a lock"),
    ("E304", "a smoke query tried to write"),
    ("I305", "smoke query coverage"),
    ("I306", "smoke queries left for a later probe by the deadline"),
    ("E307", "a smoke query registration is invalid"),
    ("E308", "an endpoint's query fails in tenant schemas"),
    ("W309", "the smoke lockfile cannot be used"),
    ("W310", "recorded queries in the smoke lockfile no longer match the code"),
    # 4xx: the deploy plan (pending migrations against the release still running)
    ("E401", "pending migration drops or renames a table the running release reads"),
    ("E402", "pending migration drops or renames a column the running release reads"),
    ("E403", "pending migration changes a column to a type the running release cannot use"),
    ("E404", "pending migration makes a column NOT NULL that the running release leaves NULL"),
    ("E405", "NOT NULL column without a database default that the running release leaves out"),
    ("W406", "pending migration adds a constraint the running release does not know"),
    ("W407", "pending migration runs SQL or a custom operation: not known statically"),
    ("I408", "pending migration runs Python code (a data migration)"),
    ("E409", "existing rows make a pending migration fail"),
    ("W410", "data preflight could not tell whether existing rows fit"),
    ("W411", "tenant schemas are at different migration states"),
    ("E412", "pending migration locks a very large table while it scans, indexes or rewrites it"),
    ("W413", "pending migration locks a large table while it scans, indexes or rewrites it"),
    ("W414", "migrate runs with no lock timeout where it takes long locks"),
    (
        "W415",
        "pending migration locks its table while it scans, indexes or rewrites it (size unknown)",
    ),
)


class Details(dict[str, Any]):
    """A finding's details, read-only: one finding object is served to many requests (and
    pickled into a shared cache), so nothing may change it after it is made."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("a finding's details are read-only")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _refuse  # type: ignore[assignment]
    __ior__ = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (Details, (dict(self),))


@dataclasses.dataclass(frozen=True)
class Finding:
    """One thing health_deep found. ``details`` may hold names and SQL: never shown anonymously."""

    id: str
    object: str
    message: str
    hint: str = ""
    alias: str = "default"
    endpoints: tuple[str, ...] = ()
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.id not in REGISTRY:
            raise ValueError(f"unregistered finding id {self.id!r}")
        if not isinstance(self.details, Details):
            object.__setattr__(self, "details", Details(self.details))

    @property
    def severity(self) -> Severity:
        return REGISTRY[self.id].severity

    @property
    def critical(self) -> bool:
        return self.severity is Severity.CRITICAL

    def as_dict(self) -> dict[str, Any]:
        """The full finding, for authorised callers, the command's JSON and logs."""
        return {
            "id": self.id,
            "severity": self.severity.label,
            "alias": self.alias,
            "object": self.object,
            "message": self.message,
            "hint": self.hint,
            "endpoints": list(self.endpoints),
            "details": dict(self.details),
        }


def worst(findings: Iterable[Finding]) -> Severity | None:
    """The highest severity among findings, or None when there are none."""
    return max((f.severity for f in findings), default=None)


def status_of(findings: Iterable[Finding]) -> str:
    """The IETF health+json word for a set of findings: pass, warn or fail."""
    level = worst(findings)
    if level is Severity.CRITICAL:
        return "fail"
    if level is Severity.WARNING:
        return "warn"
    return "pass"


def summary(findings: Iterable[Finding]) -> str:
    """A count per id, safe for anonymous callers: ids and numbers, never object names."""
    counts: dict[str, int] = {}
    for finding in sorted(findings, key=lambda f: (-f.severity, f.id)):
        counts[finding.id] = counts.get(finding.id, 0) + 1
    return ", ".join(f"{fid} x{n}" if n > 1 else fid for fid, n in counts.items())
