"""Data preflight: which pending operations the rows already in the database would fail.

Dev and staging have no rows; production has. A pending operation that constrains existing
data (NOT NULL, a shorter ``max_length``, a new uniqueness, a NOT NULL column without a
default) fails ``migrate`` only where violating rows exist. Each such operation becomes one
bounded, read-only count under the guard, and all of them share one time budget: a count
that does not finish is reported as unknown (W410), never as "0 rows".
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from django.db import DatabaseError
from django.db.models import Count, Model, UniqueConstraint
from django.db.models.fields import NOT_PROVIDED
from django.db.models.functions import Length

from health_deep import backends, dbguard
from health_deep.findings import Finding
from health_deep.rollout.releases import Releases, Step

CAP = 1000  # rows counted at most per question: past it, "more than" is answer enough
_MIN_TIMEOUT = 0.05


@dataclasses.dataclass(frozen=True)
class Question:
    """One count: the rows of ``model`` (as the database has it now) that ``step`` fails on."""

    step: Step
    model: type[Model]
    kind: str  # "null", "length", "unique", "rows"
    fields: tuple[str, ...]
    max_length: int | None = None
    after: Step | None = None  # code that runs earlier in the plan and may change the rows

    @property
    def what(self) -> str:
        names = ", ".join(self.fields)
        return {
            "null": f"hold NULL in {names}",
            "length": f"are longer than {self.max_length} characters in {names}",
            "unique": f"duplicate ({names})",
            "rows": f"exist, and the new NOT NULL column {names} has no default",
        }[self.kind]


_HINTS = {
    "null": "Backfill the NULLs first (a data migration before this one), or give the field a "
    "default: migrate then fills the NULLs with it.",
    "length": "Shorten those values first (a data migration before this one), or keep the "
    "longer max_length.",
    "unique": "Remove or merge the duplicates first (a data migration before this one).",
    "rows": "Give the field a default (db_default=..., or a default the migration fills in), "
    "or add it with null=True first.",
}


def questions(releases: Releases, *, vendor: str) -> list[Question]:
    """The counts the pending operations call for, in plan order."""
    features = backends.get(vendor).features
    asked: list[Question] = []
    code: Step | None = None
    for step in releases.steps:
        if step.runs_python or step.runs_sql or step.custom:
            code = code or step
            continue
        model = _model(releases, step)
        if model is None:
            continue  # a table made by the plan itself holds no rows yet
        for kind, fields, max_length in _constraints(step.operation, model, features):
            asked.append(Question(step, model, kind, fields, max_length, after=code))
    return asked


def _model(releases: Releases, step: Step) -> type[Model] | None:
    name = getattr(step.operation, "model_name", None) or getattr(step.operation, "name", None)
    if not isinstance(name, str):
        return None
    try:
        model: type[Model] = releases.before.apps.get_model(step.migration[0], name)
    except LookupError:
        return None
    return model if model._meta.managed else None


def _field(model: type[Model], name: str) -> Any:
    try:
        return model._meta.get_field(name)
    except Exception:
        return None


def _constraints(
    op: Any, model: type[Model], features: Any
) -> list[tuple[str, tuple[str, ...], Any]]:
    kind = type(op).__name__
    found: list[tuple[str, tuple[str, ...], Any]] = []
    if kind == "AlterField":
        old, new = _field(model, op.name), op.field
        if old is None or old.column is None:
            return []
        defaulted = (
            new.has_default() or getattr(new, "db_default", NOT_PROVIDED) is not NOT_PROVIDED
        )
        if old.null and not new.null and not defaulted:
            found.append(("null", (op.name,), None))
        shorter = old.max_length and new.max_length and new.max_length < old.max_length
        if shorter and features.enforces_lengths:
            found.append(("length", (op.name,), new.max_length))
        if new.unique and not (old.unique or old.primary_key):
            found.append(("unique", (op.name,), None))
    elif kind == "AddField":
        new = op.field
        no_default = (
            not new.has_default()
            and getattr(new, "db_default", NOT_PROVIDED) is NOT_PROVIDED
            and not getattr(new, "generated", False)
        )
        relation_only = new.many_to_many or getattr(new, "one_to_many", False)
        if not new.null and no_default and not relation_only:
            found.append(("rows", (op.name,), None))
    elif kind == "AddConstraint":
        constraint = op.constraint
        if (
            isinstance(constraint, UniqueConstraint)
            and constraint.fields
            and constraint.condition is None
            and not constraint.expressions
        ):
            found.append(("unique", tuple(constraint.fields), None))
    elif kind == "AlterUniqueTogether":
        had = {tuple(t) for t in model._meta.unique_together}
        for together in sorted({tuple(t) for t in op.option_value or ()} - had):
            found.append(("unique", together, None))
    return found


def ask(
    alias: str, asked: list[Question], *, budget: float, search_path: list[str] | None = None
) -> list[Finding]:
    """Count the violating rows of each question within ``budget`` seconds in all (in the
    schemas of ``search_path``: a tenant's)."""
    findings: list[Finding] = []
    ends = time.monotonic() + budget
    for question in asked:
        left = ends - time.monotonic()
        if left < _MIN_TIMEOUT:
            findings.append(_unknown(alias, question, "the time budget was spent before it"))
            continue
        try:
            with dbguard.guarded(alias, timeout=left, search_path=search_path):
                rows = _count(alias, question)
        except DatabaseError as exc:
            kind = dbguard.classify(exc)
            why = {
                dbguard.Failure.TIMEOUT: "the count did not finish within the time budget "
                "(a lock or a large table)",
                dbguard.Failure.UNREACHABLE: "the database stopped answering during the count",
            }.get(kind, f"the count failed ({type(exc).__name__})")
            findings.append(_unknown(alias, question, why))
            continue
        except Exception as exc:  # a field the ORM cannot count on: unknown, never "0 rows"
            findings.append(_unknown(alias, question, f"the count failed ({type(exc).__name__})"))
            continue
        if rows:
            findings.append(_violated(alias, question, rows))
    return findings


def _count(alias: str, question: Question) -> int:
    rows = question.model._base_manager.using(alias).all()
    name = question.fields[0]
    if question.kind == "null":
        rows = rows.filter(**{f"{name}__isnull": True})
    elif question.kind == "length":
        rows = rows.annotate(_hd_length=Length(name)).filter(_hd_length__gt=question.max_length)
    elif question.kind == "unique":
        # NULLs never collide; each group of n equal values has n - 1 rows too many.
        groups = (
            rows.filter(**{f"{f}__isnull": False for f in question.fields})
            .values(*question.fields)
            .annotate(_hd_n=Count("*"))
            .filter(_hd_n__gt=1)
            .values_list("_hd_n", flat=True)
        )
        return sum(n - 1 for n in groups[: CAP + 1])
    return len(rows.values_list("pk", flat=True)[: CAP + 1])


def _violated(alias: str, question: Question, rows: int) -> Finding:
    table = question.model._meta.db_table
    count = f"more than {CAP}" if rows > CAP else str(rows)
    step = question.step
    details: dict[str, object] = {
        "migration": ".".join(step.migration),
        "operation": step.text,
        "table": table,
        "fields": list(question.fields),
        "rows": rows,
        "capped": rows > CAP,
    }
    fid, message = (
        "health_deep.E409",
        f"{step.where} ({step.text}) fails on this database: {count} existing row(s) of "
        f"{table} {question.what}.",
    )
    if question.after is not None:  # a backfill may run first: the count is as of now
        fid, message = (
            "health_deep.W410",
            f"{step.where} ({step.text}): {count} row(s) of {table} {question.what} now, "
            f"but {question.after.where} runs code before it that may change them.",
        )
        details["runs_before"] = ".".join(question.after.migration)
    return Finding(
        id=fid,
        alias=alias,
        object=step.where,
        message=message,
        hint=_HINTS[question.kind],
        details=details,
    )


def _unknown(alias: str, question: Question, why: str) -> Finding:
    step = question.step
    return Finding(
        id="health_deep.W410",
        alias=alias,
        object=step.where,
        message=f"{step.where} ({step.text}): whether existing rows of "
        f"{question.model._meta.db_table} {question.what} is unknown: {why}.",
        hint="Run the plan again when the table is not locked, or with a larger --budget.",
        details={
            "migration": ".".join(step.migration),
            "operation": step.text,
            "fields": list(question.fields),
            "rows": None,
        },
    )
