"""The schema drift rules: will this code run against this schema? Plain data in, findings out.

Which drift is critical lives here and only here:

critical  a table or column is missing; a column type cannot round-trip the field's values or
          is narrower than the field; the column is NOT NULL where the model allows NULL; an
          extra NOT NULL column without a default (every INSERT fails); uniqueness the model
          relies on is only backed by an INVALID index; db_default missing on a NOT NULL column.
warning   a column of an unmanaged model's table or view is missing; a wider or differently
          spelled but compatible type; a nullable column where the model is not; a missing
          index, unique, foreign key or check; a constraint the model does not know that can
          reject writes; a constraint or index not validated.
info      an extra nullable column or an extra index (normal in expand/contract deploys);
          tables no model knows (one finding per database); an unmanaged model's table or
          view that does not exist at all (Django does not own it, frameworks create such
          views on one vendor only, and an endpoint that reads it fails its smoke query).
"""

from __future__ import annotations

from collections.abc import Iterable

from health_deep import backends
from health_deep.backends.base.types import Verdict
from health_deep.findings import Finding
from health_deep.schema.model import (
    Catalog,
    Column,
    Constraint,
    ExpectedColumn,
    ExpectedTable,
    Table,
)

_ROWID = ("rowid", "oid", "_rowid_")

_FIX = (
    "Run `manage.py migrate --database {alias}`. If it says there is nothing to apply, an "
    "applied migration was probably edited (see health_deep.E103) or the schema was changed "
    "by hand: `manage.py sqlmigrate {app} <migration>` shows the SQL the model needs."
)


def compare(
    *,
    alias: str,
    expected: Iterable[ExpectedTable],
    catalog: Catalog,
    ignore_tables: Iterable[str] = (),
) -> list[Finding]:
    """Every drift between the models' needs and the live catalog of one database."""
    findings: list[Finding] = []
    known: set[str] = {catalog.table_key(t) for t in ignore_tables}
    for table in expected:
        key = f"{table.schema}.{table.name}" if table.schema else catalog.table_key(table.name)
        known.add(key)
        actual = catalog.tables.get(key)
        if actual is None and not table.managed:
            findings.append(_unmanaged_absent(alias, table))
            continue
        if actual is None:
            findings.append(
                _finding(
                    "health_deep.E201",
                    alias,
                    table,
                    table.name,
                    f"Table {table.name} ({table.model}) does not exist.",
                    expected=table.name,
                    actual=None,
                )
            )
            continue
        findings += _TableCheck(alias, table, actual, catalog).run()
    if catalog.truncates:
        findings.append(
            Finding(
                id="health_deep.W218",
                alias=alias,
                object="sql_mode",
                message=f"sql_mode on '{alias}' has neither STRICT_TRANS_TABLES nor "
                "STRICT_ALL_TABLES: a value too long for its column is cut, not refused.",
                hint="Add STRICT_TRANS_TABLES to sql_mode: in the server's configuration, or in "
                "DATABASES[...]['OPTIONS']['init_command'].",
                details={},
            )
        )
    extra = sorted(
        {t.name for k, t in catalog.tables.items() if k not in known}
        - {catalog.table_key(name) for name in known}
    )
    if extra:
        findings.append(
            Finding(
                id="health_deep.I221",
                alias=alias,
                object=f"{len(extra)} table(s)",
                message=f"{len(extra)} table(s) on '{alias}' belong to no installed model.",
                hint="Normal during expand/contract deploys or for tables other tools own.",
                details={"tables": extra},
            )
        )
    return findings


def _finding(
    fid: str, alias: str, table: ExpectedTable, obj: str, message: str, **details: object
) -> Finding:
    return Finding(
        id=fid,
        alias=alias,
        object=obj,
        message=message,
        hint=_FIX.format(alias=alias, app=table.model.split(".")[0]),
        details={"model": table.model, **details},
    )


def _unmanaged_absent(alias: str, table: ExpectedTable) -> Finding:
    # Django does not own an unmanaged table, and whether the code reads it is not known from
    # the schema: frameworks create such views on one vendor only and read them only there
    # (django-oscar's materialized view), or never as a table at all (django-pghistory's
    # Events). An endpoint that does read it fails its smoke query critically (E301).
    return Finding(
        id="health_deep.I224",
        alias=alias,
        object=table.name,
        message=f"Table or view {table.name} of the unmanaged model {table.model} does not "
        f"exist on '{alias}'.",
        hint="Django does not create unmanaged tables. If the code reads this model here, the "
        "endpoints that do fail their smoke query (health_deep.E301); register a smoke query "
        "for any that discovery does not cover.",
        details={"model": table.model, "expected": table.name, "actual": None},
    )


def _unmanaged_column_missing(alias: str, table: ExpectedTable, where: str) -> Finding:
    return Finding(
        id="health_deep.W219",
        alias=alias,
        object=where,
        message=f"Column {where} of the unmanaged model {table.model} does not exist on "
        f"'{alias}': a query that selects the model fails.",
        hint="Django does not manage this table or view: whatever created it (a RunSQL, "
        "another tool) made it without this column. The endpoints that read the model fail "
        "their smoke query (health_deep.E301).",
        details={"model": table.model, "expected": where, "actual": None},
    )


class _TableCheck:
    """The rules for one table that exists."""

    def __init__(self, alias: str, table: ExpectedTable, actual: Table, catalog: Catalog):
        self.alias, self.table, self.actual, self.catalog = alias, table, actual, catalog
        self.backend = backends.get(catalog.vendor)
        self.features = self.backend.features
        self.findings: list[Finding] = []

    def add(self, fid: str, obj: str, message: str, **details: object) -> None:
        self.findings.append(_finding(fid, self.alias, self.table, obj, message, **details))

    def key(self, name: str | None) -> str | None:
        return None if name is None else self.catalog.key(name)

    def run(self) -> list[Finding]:
        for column in self.table.columns:
            have = self.actual.columns.get(self.catalog.key(column.name))
            where = f"{self.table.name}.{column.name}"
            if have is None and self.features.implicit_rowid and column.name.lower() in _ROWID:
                continue  # every rowid table has it, listed or not
            if have is None and not self.table.managed:
                self.findings.append(_unmanaged_column_missing(self.alias, self.table, where))
            elif have is None:
                self.add(
                    "health_deep.E202",
                    where,
                    f"Column {where} ({column.field}) does not exist.",
                    expected=column.db_type,
                    actual=None,
                )
            elif self.table.managed and self.actual.kind == "table":
                self.column(column, have, where)
        if self.table.managed and self.actual.kind == "table":
            self.extra_columns()
            _Constraints(self).run()
        return self.findings

    def column(self, want: ExpectedColumn, have: Column, where: str) -> None:
        if want.db_type is not None:
            self.column_type(want, have, where)
        if not want.primary_key and not want.generated:
            if want.nullable and not have.nullable:
                self.add(
                    "health_deep.E205",
                    where,
                    f"Column {where} is NOT NULL, but {want.field} allows NULL: saving "
                    "an object with no value fails.",
                    expected="NULL",
                    actual="NOT NULL",
                )
            elif not want.nullable and have.nullable:
                self.add(
                    "health_deep.W211",
                    where,
                    f"Column {where} allows NULL, but {want.field} does not.",
                    expected="NOT NULL",
                    actual="NULL",
                )
        if want.db_default and not have.has_default and not have.nullable:
            self.add(
                "health_deep.E208",
                where,
                f"{want.field} has a db_default, but column {where} has no default and "
                "is NOT NULL: inserts that rely on the default fail.",
                expected="DEFAULT",
                actual=None,
            )

    def column_type(self, want: ExpectedColumn, have: Column, where: str) -> None:
        assert want.db_type is not None
        verdict = self.backend.judge(want.db_type, have.type)
        if want.auto and verdict in (Verdict.WIDER, Verdict.NARROWER):
            # An auto key's width follows DEFAULT_AUTO_FIELD as it was when the table was
            # created (auto-created M2M tables ignore the app's default_auto_field), and the
            # database generates its values: a width difference cannot break the code.
            return
        details = {"expected": want.db_type, "actual": have.type}
        if verdict is Verdict.INCOMPATIBLE:
            self.add(
                "health_deep.E203",
                where,
                f"Column {where} has a type that cannot hold {want.field}'s values.",
                **details,
            )
        elif verdict is Verdict.NARROWER:
            self.add(
                "health_deep.E204",
                where,
                f"Column {where} is narrower than {want.field}: some values the model "
                "accepts will be rejected or cut.",
                **details,
            )
        elif verdict in (Verdict.WIDER, Verdict.COMPATIBLE):
            self.add(
                "health_deep.W210",
                where,
                f"Column {where} is {verdict.value} with what {want.field} needs, but "
                "not what its migration creates.",
                **details,
            )

    def extra_columns(self) -> None:
        wanted = {self.catalog.key(c.name) for c in self.table.columns}
        for key, have in sorted(self.actual.columns.items()):
            if key in wanted:
                continue
            where = f"{self.table.name}.{have.name}"
            if (
                not have.nullable
                and not have.has_default
                and not have.generated
                and self.actual.fills_on_insert
            ):
                self.add(
                    "health_deep.I220",
                    where,
                    f"Column {where} is not in the model and is NOT NULL with no default, "
                    "but a BEFORE INSERT trigger on the table can fill it.",
                    expected=None,
                    actual=have.type,
                )
            elif not have.nullable and not have.has_default and not have.generated:
                self.add(
                    "health_deep.E206",
                    where,
                    f"Column {where} is NOT NULL with no default and the model does not "
                    "know it: every insert into this table fails.",
                    expected=None,
                    actual=have.type,
                )
            else:
                self.add(
                    "health_deep.I220",
                    where,
                    f"Column {where} is not in the model (nullable or defaulted: harmless).",
                    expected=None,
                    actual=have.type,
                )


class _Constraints:
    """Keys, uniques, indexes, foreign keys and checks of one table."""

    def __init__(self, check: _TableCheck) -> None:
        self.check = check
        self.table = check.table
        self.actual = check.actual.constraints
        self.explained: set[str] = set()

    def cols(self, constraint: Constraint) -> tuple[str | None, ...]:
        return tuple(self.check.key(c) for c in constraint.columns)

    def folded(self, names: Iterable[str]) -> tuple[str | None, ...]:
        return tuple(self.check.key(n) for n in names)

    def named(self, name: str, kinds: tuple[str, ...]) -> list[Constraint]:
        return [c for c in self.actual if c.name == name and c.kind in kinds]

    def run(self) -> None:
        self.primary_key()
        for column in self.table.columns:
            if self.check.key(column.name) in self.check.actual.columns:
                self.column_constraints(column)  # a missing column is reported once, as E202
        for want in self.table.constraints:
            self.declared(want.kind, want.name, want.columns)
        self.unexplained()

    def explain(self, found: Iterable[Constraint]) -> list[Constraint]:
        found = list(found)
        self.explained.update(c.name for c in found)
        return found

    def primary_key(self) -> None:
        pk = self.folded(c.name for c in self.table.columns if c.primary_key)
        if not pk:
            return
        found = self.explain(
            c for c in self.actual if c.kind == "primary" and set(self.cols(c)) == set(pk)
        )
        if not found:
            columns = ", ".join(map(str, pk))
            self.check.add(
                "health_deep.W213",
                self.table.name,
                f"Table {self.table.name} has no primary key on {columns}.",
                expected=list(pk),
                actual=None,
            )

    def column_constraints(self, column: ExpectedColumn) -> None:
        where = f"{self.table.name}.{column.name}"
        col = self.check.key(column.name)
        if column.unique:
            self.unique(where, (column.name,), None)
        if column.db_index or column.fk:
            leading = [
                c
                for c in self.actual
                if c.kind in ("index", "unique", "primary") and self.cols(c)[:1] == (col,)
            ]
            # A unique or primary key leading with the column serves its lookups too, but
            # what it refuses still has to be explained by the model (W216 otherwise).
            found = self.explain(c for c in leading if c.kind == "index") or leading
            if column.db_index and not found:
                self.check.add(
                    "health_deep.W212",
                    where,
                    f"Index on {where} ({column.field}) is missing: lookups by it scan the table.",
                    expected="index",
                    actual=None,
                )
        if column.fk:
            self.foreign_key(column, where, col)
        if column.check and not self.type_refuses_negatives(col):
            found = self.explain(
                c for c in self.actual if c.kind == "check" and self.cols(c) == (col,)
            )
            if not found:
                self.check.add(
                    "health_deep.W215",
                    where,
                    f"Check constraint on {where} ({column.field}) is missing.",
                    expected="check",
                    actual=None,
                )

    def type_refuses_negatives(self, col: str | None) -> bool:
        # MySQL's positive fields are UNSIGNED, which refuses negatives without their CHECK
        # (an AlterField there restates the column with MODIFY and drops that CHECK).
        return (
            self.check.features.enforces_unsigned
            and "unsigned" in self.check.actual.columns[col or ""].type.lower()
        )

    def foreign_key(self, column: ExpectedColumn, where: str, col: str | None) -> None:
        assert column.fk is not None
        if not self.check.actual.enforces_foreign_keys:
            return  # the table's storage engine keeps none: nothing was lost
        target = self.check.catalog.table_key(column.fk[0])
        found = self.explain(
            c
            for c in self.actual
            if c.kind == "foreign"
            and self.cols(c) == (col,)
            and self.check.catalog.table_key(c.ref_table or "") == target
        )
        if not found:
            self.check.add(
                "health_deep.W214",
                where,
                f"Foreign key {where} -> {column.fk[0]} is missing: the database "
                "no longer guards the relation.",
                expected=list(column.fk),
                actual=None,
            )
        elif not all(c.valid for c in found):
            self.check.add(
                "health_deep.W217",
                where,
                f"Foreign key on {where} is NOT VALID: existing rows were never checked.",
                expected="valid",
                actual="not valid",
            )

    def unique(self, where: str, columns: tuple[str, ...], name: str | None) -> None:
        wanted = set(self.folded(columns))
        found = self.named(name, ("unique", "primary")) if name else []
        if wanted:
            # Same columns, other name: SQLite's autoindex behind an inline UNIQUE, say.
            found += [
                c
                for c in self.actual
                if c.kind in ("unique", "primary")
                and not c.partial
                and set(self.cols(c)) == wanted
                and c not in found
            ]
        self.explain(found)
        if not found:
            self.check.add(
                "health_deep.W213",
                where,
                f"Unique constraint {name or ''} on {where} is missing: duplicates "
                "can be written.".replace("  ", " "),
                expected=list(columns),
                actual=None,
            )
        elif not any(c.valid for c in found):
            self.check.add(
                "health_deep.E207",
                where,
                f"Uniqueness on {where} rests on an INVALID index, so the database "
                "does not enforce it.",
                expected="valid",
                actual="invalid",
            )

    def declared(self, kind: str, name: str | None, columns: tuple[str, ...]) -> None:
        where = f"{self.table.name}.{name}" if name else f"{self.table.name}({', '.join(columns)})"
        if kind == "unique":
            self.unique(where, columns, name)
            return
        assert name is not None
        kinds = {
            "index": ("index", "unique", "primary"),
            "check": ("check",),
            "exclusion": ("exclusion",),
        }[kind]
        found = self.explain(self.named(name, kinds))
        if kind == "index" and not found and columns:
            # Judged by what it does: the index under another name (index_together moved to
            # Meta.indexes with SeparateDatabaseAndState keeps the old index and its name).
            wanted = self.folded(columns)
            found = self.explain(
                c
                for c in self.actual
                if c.kind in kinds and not c.partial and self.cols(c) == wanted
            )
        if kind == "check" and not self.check.features.tells_checks_from_uniques and not found:
            found = self.explain(self.named(name, ("check", "unique")))
        if not found:
            fid = "health_deep.W212" if kind == "index" else "health_deep.W215"
            self.check.add(
                fid,
                where,
                f"{kind.capitalize()} {name} on {self.table.name} is missing.",
                expected=name,
                actual=None,
            )
        elif not all(c.valid for c in found):
            self.check.add(
                "health_deep.W217",
                where,
                f"{kind.capitalize()} {name} on {self.table.name} is not valid.",
                expected="valid",
                actual="invalid",
            )

    def unexplained(self) -> None:
        implicit_checks = {self.check.key(c.name) for c in self.table.columns if c.check}
        # Backends add helper indexes beside the ones asked for (PostgreSQL's *_like index for
        # LIKE on a varchar key): an index leading with a column the model keys on is expected.
        keyed = {
            self.check.key(c.name)
            for c in self.table.columns
            if c.primary_key or c.unique or c.db_index or c.fk
        }
        keyed |= {self.check.key(c.columns[0]) for c in self.table.constraints if c.columns}
        for constraint in self.actual:
            if constraint.name in self.explained:
                continue
            cols = self.cols(constraint)
            if constraint.kind == "check" and len(cols) == 1 and cols[0] in implicit_checks:
                continue
            if constraint.kind == "index" and cols[:1] and cols[0] in keyed:
                continue
            where = f"{self.table.name}.{constraint.name}"
            if constraint.kind == "index":
                self.check.add(
                    "health_deep.I222",
                    where,
                    f"Index {constraint.name} on {self.table.name} is not in the "
                    "model (harmless for the code).",
                    expected=None,
                    actual=[c for c in constraint.columns],
                )
            else:
                self.check.add(
                    "health_deep.W216",
                    where,
                    f"{constraint.kind.capitalize()} constraint {constraint.name} on "
                    f"{self.table.name} is not in the model: it can reject writes "
                    "the model allows.",
                    expected=None,
                    actual=[c for c in constraint.columns],
                )
