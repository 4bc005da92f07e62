"""The live schema on MySQL and MariaDB, from ``information_schema`` in one query.

One ``UNION ALL`` returns tables, columns, index parts, foreign key parts, CHECK constraints
and the session's ``sql_mode``, for the connection's database only. Types are kept as the
server spells them in ``COLUMN_TYPE`` (``int(11)``, ``varchar(100)``, ``tinyint(1)``);
:mod:`health_deep.backends.mysql.types` judges them.

MariaDB stores a ``json`` column as ``longtext`` with a column-level
``CHECK (json_valid(`col`))``. A column is read as JSON only when exactly that check names
exactly that column: any other CHECK on a ``longtext`` column leaves it ``longtext`` (Django's
own introspection is looser there). The JSON check is then part of the type, not a constraint.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from health_deep.schema.model import (
    Catalog,
    Column,
    Constraint,
    ConstraintKind,
    Table,
    TableKind,
)

_TEXT = "CONVERT({} USING utf8mb4)"  # one character set across the UNION's branches


def _t(expr: str) -> str:
    return _TEXT.format(expr)


_TABLES = f"""
SELECT 'table', {_t("TABLE_NAME")}, {_t("TABLE_TYPE")}, {_t("ENGINE")}, NULL, NULL, NULL, NULL
  FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
UNION ALL
SELECT 'trigger', {_t("EVENT_OBJECT_TABLE")}, NULL, NULL, NULL, NULL, NULL, NULL
  FROM information_schema.TRIGGERS
 WHERE TRIGGER_SCHEMA = DATABASE() AND ACTION_TIMING = 'BEFORE'
   AND EVENT_MANIPULATION = 'INSERT'
UNION ALL
SELECT 'column', {_t("TABLE_NAME")}, {_t("COLUMN_NAME")}, {_t("COLUMN_TYPE")},
       IS_NULLABLE = 'YES', COLUMN_DEFAULT IS NOT NULL,
       IS_GENERATED = 'ALWAYS' OR EXTRA LIKE '%auto_increment%', ORDINAL_POSITION
  FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
UNION ALL
SELECT 'index', {_t("TABLE_NAME")}, {_t("INDEX_NAME")}, {_t("COLUMN_NAME")}, NON_UNIQUE = 0,
       NULL, NULL, SEQ_IN_INDEX
  FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
UNION ALL
SELECT 'foreign', {_t("TABLE_NAME")}, {_t("CONSTRAINT_NAME")}, {_t("COLUMN_NAME")},
       NULL, {_t("REFERENCED_TABLE_NAME")}, {_t("REFERENCED_COLUMN_NAME")}, ORDINAL_POSITION
  FROM information_schema.KEY_COLUMN_USAGE
 WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL
UNION ALL
SELECT 'mode', NULL, {_t("@@SESSION.sql_mode")}, NULL, NULL, NULL, NULL, NULL
"""

# MariaDB names a column-level CHECK after its column, so names repeat across tables: its
# CHECK_CONSTRAINTS carries TABLE_NAME and LEVEL. MySQL 8 has neither; there the table comes
# from TABLE_CONSTRAINTS, where a check's name is unique in the schema.
_CHECKS_MARIADB = f"""
UNION ALL
SELECT 'check', {_t("TABLE_NAME")}, {_t("CONSTRAINT_NAME")}, {_t("CHECK_CLAUSE")},
       LEVEL = 'Column', NULL, NULL, NULL
  FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()
"""
_CHECKS_MYSQL = f"""
UNION ALL
SELECT 'check', {_t("tc.TABLE_NAME")}, {_t("cc.CONSTRAINT_NAME")}, {_t("cc.CHECK_CLAUSE")},
       0, NULL, NULL, NULL
  FROM information_schema.TABLE_CONSTRAINTS tc
  JOIN information_schema.CHECK_CONSTRAINTS cc
    ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
 WHERE tc.CONSTRAINT_SCHEMA = DATABASE() AND tc.CONSTRAINT_TYPE = 'CHECK'
"""


def catalog_sql(*, mariadb: bool) -> str:
    return _TABLES + (_CHECKS_MARIADB if mariadb else _CHECKS_MYSQL)


def read(cursor: Any, *, mariadb: bool, tables_case_insensitive: bool = True) -> Catalog:
    """Run the catalog query on ``cursor`` and shape the answer into a :class:`Catalog`."""
    cursor.execute(catalog_sql(mariadb=mariadb))
    return shape(
        tuple(map(tuple, cursor.fetchall())), tables_case_insensitive=tables_case_insensitive
    )


_NO_FOREIGN_KEYS = {"myisam", "aria", "memory", "archive", "csv", "merge", "mrg_myisam"}
_IDENT = re.compile(r"`((?:[^`]|``)+)`")
_STRICT = {"STRICT_TRANS_TABLES", "STRICT_ALL_TABLES"}


def _true(value: Any) -> bool:
    # The UNION gives each position one type across its branches, text where any branch has
    # text: a flag can come back as 1 or as '1'.
    return str(value) == "1"


def _json_column(clause: str) -> str | None:
    match = re.fullmatch(r"\s*json_valid\(\s*`((?:[^`]|``)+)`\s*\)\s*", clause, re.IGNORECASE)
    return match.group(1).replace("``", "`") if match else None


@functools.lru_cache(maxsize=4)
def shape(rows: tuple[tuple[Any, ...], ...], *, tables_case_insensitive: bool = True) -> Catalog:
    """Turn the query's rows into tables. Pure and cached: an unchanged catalog is not
    shaped again."""
    kinds: dict[str, TableKind] = {}
    columns: dict[str, dict[str, Column]] = {}
    parts: dict[tuple[str, str, ConstraintKind], list[tuple[int, Any]]] = {}
    refs: dict[tuple[str, str], tuple[str, list[str]]] = {}
    checks: list[tuple[str, str, str, bool]] = []
    strict = True
    engines: dict[str, str] = {}
    triggered: set[str] = set()
    # Each branch of the UNION fills the six value positions with its own columns.
    for kind, table, name, *values in rows:
        if kind == "table":
            kinds[table] = "view" if name == "VIEW" else "table"
            engines[table] = str(values[0] or "")
        elif kind == "trigger":
            triggered.add(table)
        elif kind == "column":
            column_type, nullable, has_default, generated, _position = values
            columns.setdefault(table, {})[name.lower()] = Column(
                name=name,
                type=column_type,
                nullable=_true(nullable),
                has_default=_true(has_default),
                generated=_true(generated),
            )
        elif kind == "index":
            column, unique, _, _, seq = values
            index_kind: ConstraintKind = (
                "primary" if name == "PRIMARY" else "unique" if _true(unique) else "index"
            )
            parts.setdefault((table, name, index_kind), []).append((int(seq), column))
        elif kind == "foreign":
            column, _, target, target_column, seq = values
            parts.setdefault((table, name, "foreign"), []).append((int(seq), column))
            refs.setdefault((table, name), (target, []))[1].append(target_column)
        elif kind == "check":
            clause, column_level = values[0], values[1]
            checks.append((table, name, clause, _true(column_level)))
        elif kind == "mode":
            strict = bool(_STRICT & set(str(name).upper().split(",")))
    constraints: dict[str, list[Constraint]] = {}
    for (table, name, ckind), cols in parts.items():
        ref = refs.get((table, name))
        constraints.setdefault(table, []).append(
            Constraint(
                name=name,
                kind=ckind,
                columns=tuple(col for _, col in sorted(cols)),
                ref_table=ref[0] if ref else None,
                ref_columns=tuple(ref[1]) if ref else (),
            )
        )
    for table, name, clause, column_level in checks:
        json_col = _json_column(clause)
        have = columns.get(table, {}).get((json_col or "").lower())
        if have is not None and have.type.lower() == "longtext":
            columns[table][have.name.lower()] = Column(
                name=have.name,
                type="json",
                nullable=have.nullable,
                has_default=have.has_default,
                generated=have.generated,
            )
            continue
        # Judged by what it enforces: MariaDB names a column-level CHECK after the column it
        # was created on, and keeps that name when the column is renamed (the clause follows).
        named = tuple(dict.fromkeys(m.replace("``", "`") for m in _IDENT.findall(clause)))
        constraints.setdefault(table, []).append(
            Constraint(name=name, kind="check", columns=named or ((name,) if column_level else ()))
        )
    tables = {
        (name.lower() if tables_case_insensitive else name): Table(
            name=name,
            kind=kind,
            columns=columns.get(name, {}),
            constraints=tuple(constraints.get(name, ())),
            fills_on_insert=name in triggered,
            # MyISAM and friends keep no foreign keys (django-watson moves
            # its table to MyISAM for FULLTEXT): none can be expected.
            enforces_foreign_keys=engines.get(name, "").lower() not in _NO_FOREIGN_KEYS,
        )
        for name, kind in kinds.items()
    }
    return Catalog(
        vendor="mysql",
        tables=tables,
        case_insensitive=True,
        truncates=not strict,
        tables_case_insensitive=tables_case_insensitive,
    )
