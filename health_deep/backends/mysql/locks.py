"""What MySQL's and MariaDB's DDL does to a table's rows while it holds its lock, read off the
statement (the ones Django's schema editor writes, and a RunSQL's), and the tables' sizes.

InnoDB runs an ALTER TABLE INSTANT (metadata), INPLACE with concurrent writes (LOCK=NONE), or
by copying the table (ALGORITHM=COPY, LOCK=SHARED: writes wait for the whole copy). Which one
decides the same as PostgreSQL's lock modes do; as MariaDB 10.11 answers
``ALGORITHM=INPLACE, LOCK=NONE`` (tested against a real server in tests/test_plan_locks.py)
and MySQL 8 documents it:

- ``ADD CONSTRAINT ... FOREIGN KEY`` (with ``foreign_key_checks`` on, as ``migrate`` runs):
  COPY. So is an ``ADD COLUMN`` that adds a foreign key in the same statement.
- ``ADD CONSTRAINT ... CHECK``: COPY (every row is checked while the table is copied).
- ``MODIFY`` to another column type: COPY, except a longer ``varchar`` (in place); a change of
  nullability alone is rebuilt in place with writes going on.
- ``CREATE INDEX``, ``ADD UNIQUE``/``ADD INDEX``: in place, writes go on (``FULLTEXT`` and
  ``SPATIAL`` indexes excepted: writes wait).
- ``ADD COLUMN``, ``DROP COLUMN``, renames, defaults: instant.

Every ALTER also takes an exclusive metadata lock for an instant at its start and end, which
waits behind any transaction reading the table: the lock timeout finding's business.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from health_deep.backends.base.locks import Lock, Size

_NAME = r"(?:`((?:[^`]|``)+)`|([A-Za-z_][\w$]*))"

_CREATE_INDEX = re.compile(
    rf"^\s*CREATE\s+(?:(UNIQUE|FULLTEXT|SPATIAL)\s+)?INDEX\s+{_NAME}\s+ON\s+(?:{_NAME}\.)?{_NAME}",
    re.IGNORECASE,
)
_ALTER_TABLE = re.compile(
    rf"^\s*ALTER\s+(?:ONLINE\s+)?(?:IGNORE\s+)?TABLE\s+(?:{_NAME}\.)?{_NAME}\s+(.*)$",
    re.IGNORECASE | re.DOTALL,
)
_FOREIGN = re.compile(r"\bFOREIGN\s+KEY\b", re.IGNORECASE)
_REFERENCES = re.compile(rf"\bREFERENCES\s+(?:{_NAME}\.)?{_NAME}", re.IGNORECASE)
_CHECK = re.compile(r"\bADD\s+(?:CONSTRAINT\s+\S+\s+)?CHECK\b", re.IGNORECASE)
_MODIFY = re.compile(
    rf"\b(?:MODIFY|CHANGE)\s+(?:COLUMN\s+)?{_NAME}\s+(.+)$", re.IGNORECASE | re.DOTALL
)
_VARCHAR = re.compile(r"^varchar\((\d+)\)", re.IGNORECASE)
_TRAILER = re.compile(
    r"\s+(?:NOT\s+NULL|NULL|DEFAULT\b|COLLATE\b|CHARACTER\s+SET\b).*$", re.I | re.S
)


def _name(groups: tuple[Any, ...]) -> str:
    quoted, bare = groups
    return quoted.replace("``", "`") if quoted is not None else (bare or "")


def effects(sql: str, *, column_type: Callable[[str, str], str | None]) -> list[Lock]:
    """The long locks ``sql`` takes; ``column_type(table, column)`` as for PostgreSQL."""
    text = sql.strip().rstrip(";")
    index = _CREATE_INDEX.match(text)
    if index:
        kind = (index.group(1) or "").upper()
        if kind not in ("FULLTEXT", "SPATIAL"):
            return []
        table = _name(index.group(6, 7))
        return [
            Lock(
                table, "LOCK=SHARED", "writes", "index build", f"CREATE {kind} INDEX", _SAFE["copy"]
            )
        ]
    alter = _ALTER_TABLE.match(text)
    if not alter:
        return []
    table, rest = _name(alter.group(3, 4)), alter.group(5)
    if _FOREIGN.search(rest):
        target = _REFERENCES.search(rest)
        also = (_name(target.group(3, 4)),) if target else ()
        return [
            Lock(
                table,
                "ALGORITHM=COPY",
                "writes",
                "table rewrite",
                "ADD FOREIGN KEY",
                _SAFE["foreign"],
                also,
            )
        ]
    if _CHECK.search(rest):
        return [
            Lock(table, "ALGORITHM=COPY", "writes", "table rewrite", "ADD CHECK", _SAFE["copy"])
        ]
    changed = _MODIFY.search(rest)
    if changed:
        column = _name(changed.group(1, 2))
        new = _TRAILER.sub("", changed.group(3).strip().rstrip(",")).strip()
        if not _in_place(column_type(table, column), new):
            return [
                Lock(
                    table,
                    "ALGORITHM=COPY",
                    "writes",
                    "table rewrite",
                    "MODIFY column type",
                    _SAFE["type"],
                )
            ]
    return []


def _in_place(old: str | None, new: str) -> bool:
    """A MODIFY that keeps the type (nullability alone), or lengthens a varchar."""
    if old is None:
        return False
    old, new = " ".join(old.lower().split()), " ".join(new.lower().split())
    if old == new:
        return True
    old_char, new_char = _VARCHAR.match(old), _VARCHAR.match(new)
    return bool(old_char and new_char and int(new_char.group(1)) >= int(old_char.group(1)))


_SAFE = {
    "copy": "ALGORITHM=COPY lets no write through while the table is copied: run the change "
    "with an online schema change tool (gh-ost, pt-online-schema-change), or split it: a new "
    "column, a backfill in batches, then the swap.",
    "foreign": "With foreign_key_checks on, adding a foreign key copies the table: check the "
    "rows first, then add it in a RunSQL with SET foreign_key_checks = 0 around it (in place, "
    "writes go on), or use an online schema change tool.",
    "type": "A type change copies the table: expand and contract (add a column of the new type, "
    "backfill in batches, switch the code, drop the old one later), or use an online schema "
    "change tool (gh-ost, pt-online-schema-change).",
}


_SIZES = """
SELECT table_name, table_rows, data_length + index_length
  FROM information_schema.tables
 WHERE table_schema = DATABASE() AND table_name IN ({names})
"""


def sizes(cursor: Any, tables: list[str]) -> dict[str, Size]:
    """Each of ``tables`` that exists: InnoDB's estimated rows and its size on disk."""
    if not tables:
        return {}
    cursor.execute(_SIZES.format(names=", ".join(["%s"] * len(tables))), tables)
    return {
        str(name): Size(
            None if rows is None else int(rows),
            None if size is None else int(size),
            "information_schema.TABLES, InnoDB's estimate",
        )
        for name, rows, size in cursor.fetchall()
    }


def lock_limit(cursor: Any, settings_dict: dict[str, Any]) -> float | None:
    """The metadata lock wait a new session on this connection's settings starts with:
    ``lock_wait_timeout`` as the connection's ``init_command`` sets it, else the server's
    global value (a year by default: no limit worth the name, said as None past an hour)."""
    init_command = str(settings_dict.get("OPTIONS", {}).get("init_command", ""))
    found = re.search(r"lock_wait_timeout\s*=\s*(\d+)", init_command, re.IGNORECASE)
    if found:
        seconds = float(found.group(1))
    else:
        cursor.execute("SELECT @@GLOBAL.lock_wait_timeout")
        seconds = float(cursor.fetchone()[0])
    return seconds if seconds <= 3600 else None
