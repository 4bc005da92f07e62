"""Will the running release survive the pending migrations? Plain data in, findings out.

The question is the live schema check's ("can this code run on this schema?"), asked of the
previous release's models against the schema ``migrate`` will leave. The same rules
(:mod:`health_deep.schema.compare`) judge it; what they find against the schema after the
pending migrations, and did not find against the schema before them, is what those
migrations break. Each such drift becomes a 4xx finding naming the operation to blame and
the safe sequence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from health_deep.findings import Finding
from health_deep.schema.compare import compare
from health_deep.schema.model import Catalog, Column, Constraint, ExpectedTable, Table


class Cause(Protocol):
    """A pending operation (:class:`health_deep.rollout.releases.Step`)."""

    @property
    def migration(self) -> tuple[str, str]: ...

    @property
    def where(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def runs_sql(self) -> bool: ...

    @property
    def runs_python(self) -> bool: ...

    @property
    def custom(self) -> bool: ...


# Live drift id -> deploy-plan id. Drift the old release does not feel (a wider type, a
# dropped index, an extra nullable column, a new table) is not a deploy risk and is dropped.
_PLAN_IDS = {
    "health_deep.E201": "health_deep.E401",
    "health_deep.E202": "health_deep.E402",
    "health_deep.E203": "health_deep.E403",
    "health_deep.E204": "health_deep.E403",
    "health_deep.E205": "health_deep.E404",
    "health_deep.E206": "health_deep.E405",
    "health_deep.E208": "health_deep.E405",
    "health_deep.W216": "health_deep.W406",
}

_WHAT = {
    "health_deep.E401": "Table {obj} ({model}), which the running release reads, no longer "
    "exists after {cause}.",
    "health_deep.E402": "Column {obj} ({field}), which the running release reads and writes, "
    "is dropped or renamed by {cause}.",
    "health_deep.E403": "Column {obj} ({field}) changes type in {cause} to one that cannot "
    "hold every value the running release writes.",
    "health_deep.E404": "Column {obj} ({field}) becomes NOT NULL in {cause}, but the running "
    "release may write NULL into it.",
    "health_deep.E405": "Column {obj} is NOT NULL with no database default after {cause}, "
    "and the running release does not write it: every insert it makes fails.",
    "health_deep.W406": "Constraint {obj} is added by {cause}; the running release does not "
    "know it, and its writes may be refused.",
}

HINTS = {
    "health_deep.E401": "Contract in two releases: first ship code that no longer uses the "
    "model (deploy it everywhere), then delete the model in a later release. To rename a "
    "model, keep its table: set Meta.db_table to the old name.",
    "health_deep.E402": "Contract in two releases: first remove the field from the model with "
    "SeparateDatabaseAndState(state_operations=[RemoveField(...)]) so the column stays, "
    "deploy, then drop the column in a later release. To rename a field, keep the column: "
    "set db_column to the old name.",
    "health_deep.E403": "Expand/contract: add a new column of the new type, write both, "
    "backfill, switch reads, then drop the old column in a later release.",
    "health_deep.E404": "First ship code that always writes a value and backfill the NULLs; "
    "make the column NOT NULL in a later release.",
    "health_deep.E405": "Give the field a database default (db_default=..., Django 5.0+), or "
    "add it with null=True first and make it NOT NULL once every instance writes it.",
    "health_deep.W406": "Make sure the running release's writes already satisfy it; the data "
    "preflight counts the existing rows that do not.",
    "health_deep.W407": "Check what the SQL does to tables the running release uses; health_deep "
    "judges it by the state_operations it declares, if any.",
    "health_deep.I408": "A data migration changes rows, not the schema: make sure the running "
    "release can read what it writes.",
}


def catalog_of(tables: Iterable[ExpectedTable], *, vendor: str) -> Catalog:
    """The schema a migration state creates, as if read back from the catalog."""
    result: dict[str, Table] = {}
    for table in tables:
        if not table.managed:
            continue  # migrations do not create it: neither release changes it
        result[table.name] = Table(
            name=table.name,
            kind="table",
            columns={
                c.name: Column(
                    name=c.name,
                    type=c.db_type or "",
                    nullable=c.nullable,
                    has_default=c.db_default,
                    generated=c.generated or c.auto,
                )
                for c in table.columns
            },
            constraints=tuple(_constraints(table)),
        )
    return Catalog(vendor=vendor, tables=result)


def _constraints(table: ExpectedTable) -> list[Constraint]:
    # What Django names by itself gets a readable stand-in: "unique(a, b)", "index(a)".
    found = []
    key = tuple(c.name for c in table.columns if c.primary_key)
    if key:
        found.append(Constraint(_named("primary key", key), "primary", key))
    for c in table.columns:
        column = (c.name,)
        if c.unique:
            found.append(Constraint(_named("unique", column), "unique", column))
        if c.db_index or c.fk:
            found.append(Constraint(_named("index", column), "index", column))
        if c.fk:
            found.append(
                Constraint(
                    _named("foreign key", column),
                    "foreign",
                    column,
                    ref_table=c.fk[0],
                    ref_columns=(c.fk[1],),
                )
            )
        if c.check:
            found.append(Constraint(_named("check", column), "check", column))
    for k in table.constraints:
        name = k.name or _named(k.kind, k.columns)
        found.append(Constraint(name, k.kind, tuple(k.columns), partial=k.partial))
    return found


def _named(kind: str, columns: Iterable[str]) -> str:
    return f"{kind}({', '.join(columns)})"


def _harmless(drift: Finding, old: dict[str, ExpectedTable], after: Catalog) -> bool:
    """A constraint only on columns the running release does not know and does not write:
    its inserts leave them NULL (which a foreign key, a check and a unique constraint all
    let through) or to the database (a new auto-incrementing key)."""
    if drift.id != "health_deep.W216":
        return False
    table, _, name = drift.object.partition(".")
    actual = after.tables.get(table)
    if actual is None or table not in old:
        return False
    known = {c.name for c in old[table].columns}
    columns = set(drift.details.get("actual") or ())
    kinds = {c.kind for c in actual.constraints if c.name == name}
    if kinds <= {"unique", "primary"} and any(s <= columns for s in _unique_sets(old[table])):
        return True  # the running release already kept these columns (or fewer) unique
    if not columns or columns & known:
        return False
    # Left NULL by the running release's inserts, or filled by the database (a new key).
    unwritten = all(
        (col := actual.columns.get(str(c))) is not None
        and (col.generated or (col.nullable and not col.has_default))
        for c in columns
    )
    return unwritten and kinds <= {"foreign", "check", "unique", "primary"}


def _unique_sets(table: ExpectedTable) -> list[set[str]]:
    sets = [{c.name for c in table.columns if c.primary_key}]
    sets += [{c.name} for c in table.columns if c.unique]
    sets += [
        set(k.columns)
        for k in table.constraints
        if k.kind == "unique" and k.columns and not k.partial
    ]
    return [s for s in sets if s]


def judge(
    *,
    alias: str,
    vendor: str,
    old: list[ExpectedTable],
    before: list[ExpectedTable],
    after: list[ExpectedTable],
    blame: Callable[[str, str | tuple[str, ...] | None], Cause | None],
) -> list[Finding]:
    """What the pending migrations break for the release whose models are ``old``.

    ``blame(model, field)`` names the pending operation behind a finding: an object with
    ``where`` and ``text``, or None.
    """
    managed = [t for t in old if t.managed]
    known = {
        (f.id, f.object)
        for f in compare(alias=alias, expected=managed, catalog=catalog_of(before, vendor=vendor))
    }
    fields = {f"{t.name}.{c.name}": c.field for t in managed for c in t.columns}
    by_name = {t.name: t for t in managed}
    schema = catalog_of(after, vendor=vendor)
    findings = []
    for drift in compare(alias=alias, expected=managed, catalog=schema):
        plan_id = _PLAN_IDS.get(drift.id)
        if plan_id is None or (drift.id, drift.object) in known:
            continue
        if _harmless(drift, by_name, schema):
            continue
        model = str(drift.details.get("model", ""))
        column = drift.object.rpartition(".")[2] if "." in drift.object else None
        field = fields.get(drift.object)
        field_name = field.rpartition(".")[2] if field else column
        named: str | tuple[str, ...] | None = field_name
        if plan_id == "health_deep.E401":
            named = None
        elif plan_id == "health_deep.W406":  # the operation adding it, not the model's last
            columns = [str(c) for c in drift.details.get("actual") or ()]
            table = drift.object.rpartition(".")[0]
            named = (
                column or "",
                *((fields.get(f"{table}.{c}") or c).rpartition(".")[2] for c in columns),
            )
        step = blame(model, named)
        cause = f"{step.where} ({step.text})" if step else "the pending migrations"
        findings.append(
            Finding(
                id=plan_id,
                alias=alias,
                object=drift.object,
                message=_WHAT[plan_id].format(
                    obj=drift.object, model=model, field=field or model, cause=cause
                ),
                hint=HINTS[plan_id],
                details={
                    **drift.details,
                    "migration": ".".join(step.migration) if step else None,
                    "operation": step.text if step else None,
                    "drift": drift.id,
                },
            )
        )
    return findings


def unknowable(*, alias: str, steps: Iterable[Cause]) -> list[Finding]:
    """The pending operations whose effect cannot be known without running them."""
    findings = []
    for step in steps:
        if step.runs_python:
            fid, what = "health_deep.I408", "runs Python code (a data migration)"
        elif step.runs_sql or step.custom:
            fid, what = "health_deep.W407", "runs SQL or a custom operation"
        else:
            continue
        findings.append(
            Finding(
                id=fid,
                alias=alias,
                object=step.where,
                message=f"{step.where} {what}: its effect on the running release cannot be "
                "known without running it.",
                hint=HINTS[fid],
                details={"migration": ".".join(step.migration), "operation": step.text},
            )
        )
    return findings
