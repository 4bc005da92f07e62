"""MariaDB commits every DDL statement, so a test that breaks the schema cannot roll it back.

After each test the schema's signature (one ``information_schema`` query) is compared with the
one taken after migrating; when it differs, every table and view whose ``SHOW CREATE`` text
changed is dropped and created again from the pristine text, and rows that a DDL statement
committed are deleted from tables that were empty.
"""

from __future__ import annotations

import re
from typing import Any

SIGNATURE_SQL = """
SELECT MD5(CONCAT_WS('|',
  (SELECT GROUP_CONCAT(TABLE_NAME, TABLE_TYPE ORDER BY TABLE_NAME)
     FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()),
  (SELECT GROUP_CONCAT(TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE,
                       IFNULL(COLUMN_DEFAULT, '-') ORDER BY TABLE_NAME, ORDINAL_POSITION)
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()),
  (SELECT GROUP_CONCAT(TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME
                       ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX)
     FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()),
  (SELECT GROUP_CONCAT(TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE
                       ORDER BY TABLE_NAME, CONSTRAINT_NAME)
     FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = DATABASE())))
"""


class Pristine:
    """The migrated schema of the test database, and how to return to it."""

    def __init__(self, cursor: Any) -> None:
        cursor.execute("SET SESSION group_concat_max_len = 16777216")
        self.signature = _signature(cursor)
        self.create = _create_statements(cursor)
        self.counts = _counts(
            cursor, [n for n, (kind, _) in self.create.items() if kind == "table"]
        )

    def restore(self, cursor: Any) -> bool:
        """Put the schema back if it changed; True when something had to be done."""
        cursor.execute("SET SESSION group_concat_max_len = 16777216")
        if _signature(cursor) == self.signature:
            return False
        now = _create_statements(cursor)
        changed = {n for n in set(now) | set(self.create) if now.get(n) != self.create.get(n)}
        cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
        try:
            for name in sorted(changed & set(now), key=lambda n: now[n][0] != "view"):
                cursor.execute(f"DROP {now[name][0].upper()} `{name}`")
            for name in sorted(changed & set(self.create), key=lambda n: self.create[n][0]):
                cursor.execute(self.create[name][1])  # tables before views ("table" < "view")
                if self.counts.get(name):
                    raise RuntimeError(
                        f"{name} had rows before the test and was recreated "
                        "empty: mutate a table that starts empty"
                    )
            grown = _counts(cursor, list(self.counts))
            for name, count in grown.items():
                if count and not self.counts[name]:
                    cursor.execute(f"DELETE FROM `{name}`")
            # This may run inside the test's transaction, which is rolled back afterwards.
            cursor.execute("COMMIT")
        finally:
            cursor.execute("SET FOREIGN_KEY_CHECKS = 1")
        return True


def _signature(cursor: Any) -> str:
    cursor.execute(SIGNATURE_SQL)
    return str(cursor.fetchone()[0])


def _create_statements(cursor: Any) -> dict[str, tuple[str, str]]:
    cursor.execute(
        "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE()"
    )
    statements: dict[str, tuple[str, str]] = {}
    for name, kind in cursor.fetchall():
        cursor.execute(f"SHOW CREATE TABLE `{name}`")
        text = cursor.fetchone()[1]
        text = re.sub(r" AUTO_INCREMENT=\d+", "", text)  # moves with every insert
        statements[name] = ("view" if kind == "VIEW" else "table", text)
    return statements


def _counts(cursor: Any, tables: list[str]) -> dict[str, int]:
    if not tables:
        return {}
    cursor.execute(" UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM `{t}`" for t in tables))
    return {name: int(count) for name, count in cursor.fetchall()}
