"""The live schema on SQLite, from ``sqlite_master`` and the table-valued PRAGMAs, in one query.

Virtual tables (FTS5 and the like, which some apps put under a managed model) are kept apart:
their columns have no types and their ``rowid`` is implicit, so only their columns' presence
is judged, and their shadow tables are not reported as strays.

SQLite keeps no catalog of CHECK constraints, so they are read from each table's
``CREATE TABLE`` text: named ones (``CONSTRAINT "name" CHECK (...)``) by name, and a column's
own unnamed ``CHECK`` (a positive integer field's ``CHECK ("col" >= 0)``) by its column.
Everything else comes from ``pragma_table_xinfo``, ``pragma_index_list``/``pragma_index_info``
and ``pragma_foreign_key_list``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from health_deep.schema.model import (
    Catalog,
    Column,
    Constraint,
    ConstraintKind,
    Table,
    TableKind,
)

_USER = "m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"

CATALOG_SQL = f"""
SELECT 'table', m.name, m.type, m.sql, NULL, NULL, NULL, NULL
  FROM sqlite_master m WHERE m.type IN ('table', 'view') AND {_USER}
UNION ALL
SELECT 'column', m.name, p.name, p.type, p."notnull", p.dflt_value IS NOT NULL, p.pk, p.hidden
  FROM sqlite_master m JOIN pragma_table_xinfo(m.name) p
 WHERE m.type IN ('table', 'view') AND {_USER}
UNION ALL
SELECT 'index', m.name, il.name, il."unique", il.origin, il.partial, ii.seqno, ii.name
  FROM sqlite_master m JOIN pragma_index_list(m.name) il JOIN pragma_index_info(il.name) ii
 WHERE m.type = 'table' AND {_USER}
UNION ALL
SELECT 'foreign', m.name, fk.id, fk."table", fk."from", fk."to", fk.seq, NULL
  FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) fk
 WHERE m.type = 'table' AND {_USER}
"""

_NAMED = re.compile(
    r"""CONSTRAINT\s+(?:"([^"]+)"|`([^`]+)`|\[([^\]]+)\]|(\w+))\s+(CHECK|UNIQUE)\b""",
    re.IGNORECASE,
)


_COLUMN_CHECK = re.compile(r"\bCHECK\s*\(", re.IGNORECASE)
_TABLE_CONSTRAINT = re.compile(r"\s*(CONSTRAINT|CHECK|UNIQUE|PRIMARY|FOREIGN)\b", re.IGNORECASE)
_LEADING_NAME = re.compile(r"""\s*(?:"((?:[^"]|"")+)"|`([^`]+)`|\[([^\]]+)\]|(\w+))""")


def _definitions(create: str) -> list[str]:
    """The top-level, comma-separated items between the outer parentheses of a CREATE TABLE."""
    start = create.find("(")
    items: list[str] = []
    depth, quote = 0, ""
    current: list[str] = []
    for char in create[start + 1 :] if start >= 0 else "":
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'`[":
            quote = "]" if char == "[" else char
        elif char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                break
            depth -= 1
        elif char == "," and depth == 0:
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    items.append("".join(current))
    return items


def column_checks(create: str) -> list[str]:
    """Columns whose own definition carries an unnamed CHECK, in table order."""
    columns: list[str] = []
    for item in _definitions(create):
        if _TABLE_CONSTRAINT.match(item) or not _COLUMN_CHECK.search(item):
            continue
        name = _LEADING_NAME.match(item)
        if name is not None:
            columns.append(next(g for g in name.groups() if g).replace('""', '"'))
    return columns


# Tables a virtual table keeps its data in (FTS3/4/5, R*Tree): part of it, not strays.
_SHADOW_SUFFIXES = (
    "_content",
    "_segments",
    "_segdir",
    "_docsize",
    "_stat",
    "_data",
    "_idx",
    "_config",
    "_node",
    "_parent",
    "_rowid",
)


def _shadow_tables(kinds: Mapping[str, str]) -> set[str]:
    virtual = [name for name, kind in kinds.items() if kind == "virtual"]
    return {
        name
        for name in kinds
        for v in virtual
        if name.startswith(v) and name[len(v) :] in _SHADOW_SUFFIXES
    }


def read(cursor: Any) -> Catalog:
    """Run the catalog query on ``cursor`` and shape the answer into a :class:`Catalog`."""
    cursor.execute(CATALOG_SQL)
    return shape(tuple(map(tuple, cursor.fetchall())))


@functools.lru_cache(maxsize=4)
def shape(rows: tuple[tuple[Any, ...], ...]) -> Catalog:
    """Turn the query's rows into tables. Pure, so it is testable without a database.
    Cached: an unchanged catalog is not shaped again."""
    kinds: dict[str, TableKind] = {}
    sql: dict[str, str] = {}
    columns: dict[str, dict[str, Column]] = {}
    pk: dict[str, list[tuple[int, str]]] = {}
    indexes: dict[tuple[str, str], dict[str, Any]] = {}
    foreign: dict[tuple[str, int], dict[str, Any]] = {}
    # Each branch of the UNION fills the six value positions with its own columns.
    for what, table, *values in rows:
        key = table.lower()
        if what == "table":
            master_type, create = values[0], values[1] or ""
            virtual = create.lstrip().upper().startswith("CREATE VIRTUAL TABLE")
            kinds[key] = "view" if master_type == "view" else "virtual" if virtual else "table"
            sql[key] = create
        elif what == "column":
            name, declared, notnull, has_default, pk_pos, hidden = values
            declared = declared or ""
            rowid = bool(pk_pos) and declared.upper() == "INTEGER"
            columns.setdefault(key, {})[name.lower()] = Column(
                name=name,
                type=declared,
                nullable=not notnull and not pk_pos,
                has_default=bool(has_default),
                generated=rowid or hidden in (2, 3),
            )
            if pk_pos:
                pk.setdefault(key, []).append((pk_pos, name))
        elif what == "index":
            index, unique, origin, partial, seqno, column = values
            entry = indexes.setdefault(
                (key, index), {"unique": unique, "origin": origin, "partial": partial, "cols": []}
            )
            entry["cols"].append((seqno, column))
        elif what == "foreign":
            fk_id, target, source, target_column, seq, _ = values
            entry = foreign.setdefault((key, fk_id), {"table": target, "cols": []})
            entry["cols"].append((seq, source, target_column))
    constraints: dict[str, list[Constraint]] = {}
    for key, members in pk.items():
        cols = tuple(name for _pos, name in sorted(members))
        constraints.setdefault(key, []).append(Constraint("primary", "primary", cols))
    for (key, name), entry in indexes.items():
        kind: ConstraintKind = (
            "primary" if entry["origin"] == "pk" else "unique" if entry["unique"] else "index"
        )
        cols = tuple(col for _seq, col in sorted(entry["cols"], key=lambda t: t[0]))
        constraints.setdefault(key, []).append(
            Constraint(name, kind, cols, partial=bool(entry["partial"]))
        )
    for (key, fk_id), entry in foreign.items():
        ordered = sorted(entry["cols"])
        constraints.setdefault(key, []).append(
            Constraint(
                name=f"fk{fk_id}",
                kind="foreign",
                columns=tuple(f for _s, f, _t in ordered),
                ref_table=entry["table"],
                ref_columns=tuple(t for _s, _f, t in ordered if t),
            )
        )
    for key, text in sql.items():
        for match in _NAMED.finditer(text):
            name = next(g for g in match.groups()[:4] if g)
            named: ConstraintKind = "check" if match.group(5).upper() == "CHECK" else "unique"
            constraints.setdefault(key, []).append(Constraint(name, named))
        for column in column_checks(text):
            constraints.setdefault(key, []).append(
                Constraint(f"CHECK({column})", "check", (column,))
            )
    shadows = _shadow_tables(kinds)
    tables = {
        key: Table(
            name=key,
            kind=kinds[key],
            columns=columns.get(key, {}),
            constraints=tuple(constraints.get(key, ())),
        )
        for key in kinds
        if key not in shadows
    }
    return Catalog(vendor="sqlite", tables=tables, case_insensitive=True)
