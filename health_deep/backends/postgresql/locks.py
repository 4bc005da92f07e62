"""What PostgreSQL's DDL does to a table's rows while it holds its lock, read off the statement
(the ones Django's schema editor writes, and a RunSQL's), and the tables' sizes from the catalog.

Lock modes as PostgreSQL documents them and ``pg_locks`` shows them (tested against a real
server in tests/test_plan_locks.py):

- ``CREATE [UNIQUE] INDEX`` without ``CONCURRENTLY``: SHARE (writes wait) for the whole build.
- ``ADD CONSTRAINT ... FOREIGN KEY`` without ``NOT VALID``: SHARE ROW EXCLUSIVE on the table
  and its target (writes wait on both) while every row is checked.
- ``ADD CONSTRAINT ... CHECK`` without ``NOT VALID``: ACCESS EXCLUSIVE (reads wait too) while
  every row is checked; ``UNIQUE``/``PRIMARY KEY`` (not ``USING INDEX``): the same while the
  index is built; ``ALTER COLUMN ... SET NOT NULL``: the same while every row is checked.
- ``ALTER COLUMN ... TYPE``: ACCESS EXCLUSIVE, and the table and its indexes are rewritten
  unless the new type is binary-compatible (a longer ``varchar``, ``text``, a wider
  ``numeric`` of the same scale).
- ``ADD COLUMN`` with a volatile default (``random()``, ``gen_random_uuid()``,
  ``clock_timestamp()``...) or a stored generated expression: ACCESS EXCLUSIVE and a rewrite;
  a constant or stable default (PostgreSQL 11+) is metadata only.

Everything else Django writes (``ADD COLUMN`` without one, ``DROP``, ``RENAME``, ``DROP NOT
NULL``, ``SET``/``DROP DEFAULT``, ``NOT VALID`` constraints, ``VALIDATE CONSTRAINT``, anything
``CONCURRENTLY``) holds its lock only for an instant, or lets writes through.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from health_deep.backends.base.locks import Lock, Size

_NAME = r'(?:"((?:[^"]|"")+)"|([A-Za-z_][\w$]*))'  # a quoted or a bare identifier
_QUALIFIED = rf"(?:{_NAME}\.)?{_NAME}"

_CREATE_INDEX = re.compile(
    rf"^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?"
    rf"(?:{_NAME}\s+)?ON\s+(?:ONLY\s+)?{_QUALIFIED}",
    re.IGNORECASE,
)
_ALTER_TABLE = re.compile(
    rf"^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?{_QUALIFIED}\s+(.*)$",
    re.IGNORECASE | re.DOTALL,
)
_ADD_CONSTRAINT = re.compile(
    rf"^ADD\s+(?:CONSTRAINT\s+{_NAME}\s+)?(CHECK|UNIQUE|PRIMARY\s+KEY|FOREIGN\s+KEY|EXCLUDE)\b",
    re.IGNORECASE,
)
_REFERENCES = re.compile(rf"\bREFERENCES\s+{_QUALIFIED}", re.IGNORECASE)
_TYPE = re.compile(
    rf"^ALTER\s+(?:COLUMN\s+)?{_NAME}\s+(?:SET\s+DATA\s+)?TYPE\s+(.+?)(?:\s+USING\b.*)?$",
    re.IGNORECASE | re.DOTALL,
)
_SET_NOT_NULL = re.compile(rf"^ALTER\s+(?:COLUMN\s+)?{_NAME}\s+SET\s+NOT\s+NULL\s*$", re.IGNORECASE)
_ADD_COLUMN = re.compile(r"^ADD\s+(?:COLUMN\s+)?", re.IGNORECASE)
_VOLATILE = re.compile(
    r"\b(random|gen_random_uuid|uuid_generate_v[14]\w*|clock_timestamp|timeofday|nextval|"
    r"txid_current|statement_timestamp)\s*\(",
    re.IGNORECASE,
)
_STORED = re.compile(r"\bGENERATED\s+ALWAYS\s+AS\s*\(.*\)\s*STORED\b", re.IGNORECASE | re.DOTALL)


def _name(groups: Iterable[str | None]) -> str:
    quoted, bare = groups
    return (quoted or "").replace('""', '"') if quoted is not None else (bare or "")


def _table(match: re.Match[str], first: int) -> str:
    """The table of a ``schema.table`` match whose groups start at ``first`` (the schema is
    left out: the sizes are looked up on the search path)."""
    return _name(match.group(first + 2, first + 3))


def effects(sql: str, *, column_type: Callable[[str, str], str | None]) -> list[Lock]:
    """The long locks ``sql`` takes. ``column_type(table, column)`` is the column's type as the
    schema before the statement has it (None: not known)."""
    text = sql.strip().rstrip(";")
    index = _CREATE_INDEX.match(text)
    if index:
        if index.group(2):  # CONCURRENTLY: writes go on
            return []
        table = _table(index, 5)
        what = "CREATE UNIQUE INDEX" if index.group(1) else "CREATE INDEX"
        return [Lock(table, "SHARE", "writes", "index build", what, _SAFE["index"])]
    alter = _ALTER_TABLE.match(text)
    if not alter:
        return []
    table = _table(alter, 1)
    found = []
    for action in _actions(alter.group(5)):
        lock = _action(table, action, column_type)
        if lock is not None:
            found.append(lock)
    return found


def _actions(rest: str) -> list[str]:
    """The comma-separated actions of an ALTER TABLE, commas inside parentheses kept."""
    parts, depth, start, quoted = [], 0, 0, False
    for i, char in enumerate(rest):
        if char in "\"'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and char == "," and depth == 0:
            parts.append(rest[start:i].strip())
            start = i + 1
    parts.append(rest[start:].strip())
    return [p for p in parts if p]


def _action(table: str, action: str, column_type: Callable[[str, str], str | None]) -> Lock | None:
    not_valid = re.search(r"\bNOT\s+VALID\b", action, re.IGNORECASE)
    constraint = _ADD_CONSTRAINT.match(action)
    if constraint:
        kind = " ".join(constraint.group(3).upper().split())
        if not_valid or re.search(r"\bUSING\s+INDEX\b", action, re.IGNORECASE):
            return None
        if kind == "FOREIGN KEY":
            target = _REFERENCES.search(action)
            also = (_table(target, 1),) if target else ()
            return Lock(
                table,
                "SHARE ROW EXCLUSIVE",
                "writes",
                "validation scan",
                "ADD FOREIGN KEY",
                _SAFE["foreign"],
                also,
            )
        if kind == "CHECK":
            return Lock(
                table,
                "ACCESS EXCLUSIVE",
                "reads and writes",
                "validation scan",
                "ADD CHECK",
                _SAFE["check"],
            )
        if kind == "EXCLUDE":
            return Lock(
                table,
                "ACCESS EXCLUSIVE",
                "reads and writes",
                "index build",
                "ADD EXCLUDE",
                _SAFE["index"],
            )
        return Lock(
            table,
            "ACCESS EXCLUSIVE",
            "reads and writes",
            "index build",
            f"ADD {kind}",
            _SAFE["unique"],
        )
    changed = _TYPE.match(action)
    if changed:
        column, new = _name(changed.group(1, 2)), changed.group(3).strip()
        if binary_compatible(column_type(table, column), new):
            return None
        return Lock(
            table,
            "ACCESS EXCLUSIVE",
            "reads and writes",
            "table rewrite",
            "ALTER COLUMN TYPE",
            _SAFE["type"],
        )
    if _SET_NOT_NULL.match(action):
        return Lock(
            table,
            "ACCESS EXCLUSIVE",
            "reads and writes",
            "validation scan",
            "SET NOT NULL",
            _SAFE["not null"],
        )
    if _ADD_COLUMN.match(action):
        return _added_column(table, action)
    return None


def _added_column(table: str, action: str) -> Lock | None:
    """``ADD COLUMN``: metadata only, unless the existing rows must be rewritten (a volatile
    default, a stored generated column), indexed (an inline UNIQUE or PRIMARY KEY) or checked
    (an inline CHECK: Django's positive integer fields)."""
    bare = re.sub(r'"(?:[^"]|"")*"', '""', action)  # names cannot look like keywords
    parts = re.split(r"\bDEFAULT\b", bare, maxsplit=1, flags=re.IGNORECASE)
    default = parts[1] if len(parts) == 2 else ""
    if _STORED.search(bare) or _VOLATILE.search(default):
        return Lock(
            table,
            "ACCESS EXCLUSIVE",
            "reads and writes",
            "table rewrite",
            "ADD COLUMN with a volatile default",
            _SAFE["volatile"],
        )
    if re.search(r"\b(UNIQUE|PRIMARY\s+KEY)\b", bare, re.IGNORECASE):
        return Lock(
            table,
            "ACCESS EXCLUSIVE",
            "reads and writes",
            "index build",
            "ADD COLUMN with UNIQUE",
            _SAFE["unique column"],
        )
    if re.search(r"\bCHECK\s*\(", bare, re.IGNORECASE):
        return Lock(
            table,
            "ACCESS EXCLUSIVE",
            "reads and writes",
            "validation scan",
            "ADD COLUMN with a CHECK",
            _SAFE["checked column"],
        )
    return None


_VARCHAR = re.compile(r"^(?:varchar|character varying)\s*(?:\(\s*(\d+)\s*\))?$", re.IGNORECASE)
_NUMERIC = re.compile(r"^(?:numeric|decimal)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$", re.IGNORECASE)


def binary_compatible(old: str | None, new: str) -> bool:
    """Whether PostgreSQL changes the type without rewriting the table: the same type, a
    longer or unlimited ``varchar``, ``text`` from a ``varchar``, a wider ``numeric`` of
    the same scale. Unknown old types are taken as a rewrite."""
    if old is None:
        return False
    old, new = " ".join(old.lower().split()), " ".join(new.lower().split())
    if old == new:
        return True
    old_char, new_char = _VARCHAR.match(old), _VARCHAR.match(new)
    if old_char and (new == "text" or (new_char and not new_char.group(1))):
        return True
    if old_char and new_char:
        return old_char.group(1) is not None and int(new_char.group(1)) >= int(old_char.group(1))
    old_num, new_num = _NUMERIC.match(old), _NUMERIC.match(new)
    if old_num and new_num:
        return new_num.group(2) == old_num.group(2) and int(new_num.group(1)) >= int(
            old_num.group(1)
        )
    return False


_SAFE = {
    "index": "Build it CONCURRENTLY: AddIndexConcurrently (django.contrib.postgres.operations) "
    "in a migration with atomic = False; writes go on while it builds.",
    "unique": "Build the unique index CONCURRENTLY first (AddIndexConcurrently, atomic = False), "
    "then add the constraint USING INDEX (RunSQL): an instant's lock instead of the build's.",
    "foreign": "Add the constraint NOT VALID, then VALIDATE CONSTRAINT in a later migration "
    "(RunSQL; validating lets writes through), or let django-pg-zero-downtime-migrations do it.",
    "check": "Add the check NOT VALID, then VALIDATE CONSTRAINT in a later migration (RunSQL; "
    "validating lets reads and writes through), or let django-pg-zero-downtime-migrations do it.",
    "not null": "Add CHECK (column IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL "
    "(PostgreSQL 12+ then skips the scan) and drop the check; "
    "django-pg-zero-downtime-migrations does this.",
    "type": "Expand and contract: add a column of the new type, backfill it in batches, switch "
    "the code to it, drop the old one in a later release; or pick a binary-compatible change "
    "(a longer varchar, text).",
    "unique column": "Add the column without UNIQUE, build its unique index CONCURRENTLY "
    "(AddIndexConcurrently, atomic = False), then add the constraint USING INDEX (RunSQL).",
    "checked column": "Add the column without the check (a PositiveIntegerField writes one: "
    "add it as an IntegerField first), then add the check NOT VALID and VALIDATE it in a later "
    "migration.",
    "volatile": "Add the column without the default (or with a constant db_default), backfill "
    "it in batches, then set the default.",
}


# From the catalog and the statistics only: reading a table's file size would wait for a
# lock on the table, the very lock a long migration or query may hold.
_SIZES = """
SELECT c.relname, c.reltuples::bigint, pg_catalog.pg_stat_get_live_tuples(c.oid),
       c.relpages::bigint * current_setting('block_size')::bigint
  FROM pg_catalog.pg_class c
 WHERE c.relname = ANY(%s) AND c.relkind IN ('r', 'p', 'm')
   AND pg_catalog.pg_table_is_visible(c.oid)
"""


def sizes(cursor: Any, tables: list[str]) -> dict[str, Size]:
    """Each of ``tables`` (on the search path) that exists: its estimated rows
    (``pg_class.reltuples`` as of the last ANALYZE or VACUUM, else the statistics' live
    rows) and pages."""
    if not tables:
        return {}
    cursor.execute(_SIZES, [tables])
    found = {}
    for name, rows, live, size in cursor.fetchall():
        if rows is not None and rows >= 0:
            found[name] = Size(int(rows), size, "pg_class.reltuples, as of the last ANALYZE")
        else:
            found[name] = Size(
                None if live is None else int(live),
                None,
                "never analyzed: the statistics' count of live rows",
            )
    return found


def lock_limit(cursor: Any, settings_dict: dict[str, Any]) -> float | None:
    """The lock timeout migrate's session would have, in seconds (None: no limit): what
    django-pg-zero-downtime-migrations' backend sets for it, else what a new session on these
    settings starts with (the connection's options, the role's and the database's defaults:
    ``reset_val``, untouched by the guard's own ``SET LOCAL``)."""
    if "zero_downtime" in str(settings_dict.get("ENGINE", "")):
        from django.conf import settings

        configured = getattr(settings, "ZERO_DOWNTIME_MIGRATIONS_LOCK_TIMEOUT", None)
        if configured:
            return _seconds(str(configured))
    cursor.execute("SELECT reset_val, unit FROM pg_catalog.pg_settings WHERE name = 'lock_timeout'")
    value, unit = cursor.fetchone()
    ms = int(value) * (1000 if unit == "s" else 1)
    return ms / 1000 if ms else None


_UNITS = {"ms": 0.001, "s": 1.0, "min": 60.0, "h": 3600.0, "": 0.001}


def _seconds(value: str) -> float | None:
    """A PostgreSQL duration ('5s', '500ms', '2min', '1000'): seconds, None for 0."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h)?\s*", value)
    if not found:
        return None
    seconds = float(found.group(1)) * _UNITS[found.group(2) or ""]
    return seconds or None
