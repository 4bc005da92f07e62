"""Plain data shared by the schema check: what the models expect and what the catalog holds.

Names are stored as the database spells them; ``key()`` folds case on backends whose
identifiers are case-insensitive, so comparison never depends on the spelling.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

ConstraintKind = Literal["primary", "unique", "index", "foreign", "check", "exclusion"]
TableKind = Literal["table", "view", "virtual"]


@dataclasses.dataclass(frozen=True)
class ExpectedColumn:
    name: str
    field: str  # "app_label.Model.field", for messages
    db_type: str | None  # None: Django cannot state the type, so it is not compared
    nullable: bool
    primary_key: bool = False
    unique: bool = False
    db_index: bool = False
    fk: tuple[str, str] | None = None  # (table, column) when a FK constraint is expected
    check: bool = False  # an implicit CHECK (PositiveIntegerField >= 0 and the like)
    db_default: bool = False
    generated: bool = False
    auto: bool = False  # an auto-incrementing key: the database, not the code, writes it


@dataclasses.dataclass(frozen=True)
class ExpectedConstraint:
    """A unique constraint, index, check or exclusion the model declares.

    ``name`` is None for what Django names by itself (unique_together, unique=True, db_index):
    those match on columns. Named ones match on the name.
    """

    kind: Literal["unique", "index", "check", "exclusion"]
    columns: tuple[str, ...] = ()
    name: str | None = None
    partial: bool = False  # a condition limits it to some rows


@dataclasses.dataclass(frozen=True)
class ExpectedTable:
    name: str
    model: str  # "app_label.Model"
    managed: bool
    columns: tuple[ExpectedColumn, ...]
    constraints: tuple[ExpectedConstraint, ...] = ()
    schema: str | None = None  # set when db_table names a schema ('schema"."table')


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    has_default: bool = False
    generated: bool = False  # generated, identity or an SQLite rowid alias: no value needed


@dataclasses.dataclass(frozen=True)
class Constraint:
    """Anything the catalog says constrains or indexes a table."""

    name: str
    kind: ConstraintKind
    columns: tuple[str | None, ...] = ()  # None marks an expression
    valid: bool = True  # PostgreSQL: INVALID index, NOT VALID constraint
    partial: bool = False
    ref_table: str | None = None
    ref_columns: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Table:
    name: str
    kind: TableKind
    columns: dict[str, Column]
    constraints: tuple[Constraint, ...] = ()
    fills_on_insert: bool = False  # a BEFORE INSERT row trigger may supply column values
    enforces_foreign_keys: bool = True  # False on a MySQL engine without them (MyISAM)


@dataclasses.dataclass(frozen=True)
class Catalog:
    """Every table the probe can see on one alias, by folded name."""

    vendor: str
    tables: dict[str, Table]
    case_insensitive: bool = False
    truncates: bool = False  # MySQL without a strict sql_mode: too-long values are cut silently

    # None: as case_insensitive. MySQL folds column names always, table names only with
    # lower_case_table_names (Django's connection.features.ignores_table_name_case).
    tables_case_insensitive: bool | None = None

    def key(self, name: str) -> str:
        """A column name as the catalog keys it."""
        return name.lower() if self.case_insensitive else name

    def table_key(self, name: str) -> str:
        """A table name as the catalog keys it."""
        folds = (
            self.case_insensitive
            if self.tables_case_insensitive is None
            else self.tables_case_insensitive
        )
        return name.lower() if folds else name

    def table(self, name: str) -> Table | None:
        return self.tables.get(self.table_key(name))
