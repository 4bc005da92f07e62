"""Error classification by driver codes, and the guard's limits, on real SQLite errors."""

from __future__ import annotations

import sqlite3
import time

import pytest
from django.db import connection

from health_deep import dbguard
from health_deep.dbguard import Failure


def error_of(*statements: str) -> sqlite3.Error:
    db = sqlite3.connect(":memory:")
    try:
        for statement in statements:
            db.execute(statement)
    except sqlite3.Error as exc:
        return exc
    raise AssertionError("no error")


def test_a_column_named_timeout_is_not_a_timeout() -> None:
    exc = error_of("CREATE TABLE t (id int)", "SELECT timeout_seconds FROM t")

    assert dbguard.classify(exc) is Failure.OTHER


@pytest.mark.parametrize(("statements", "expected"), [
    (("SELECT * FROM missing_table",), Failure.MISSING_TABLE),
    (("PRAGMA query_only = ON", "CREATE TABLE t (id int)"), Failure.READ_ONLY),
])
def test_sqlite_errors_are_classified_by_code(statements: tuple[str, ...],
                                              expected: Failure) -> None:
    assert dbguard.classify(error_of(*statements)) is expected


def test_interrupted_query_is_a_timeout() -> None:
    db = sqlite3.connect(":memory:")
    stop = time.monotonic() + 0.05
    db.set_progress_handler(lambda: int(time.monotonic() > stop), 1000)
    with pytest.raises(sqlite3.OperationalError) as excinfo:
        db.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
                   "SELECT count(*) FROM n").fetchone()

    assert dbguard.classify(excinfo.value) is Failure.TIMEOUT


@pytest.mark.django_db
def test_guard_is_read_only_and_restores_the_connection() -> None:
    from django.db import DatabaseError

    with pytest.raises(DatabaseError) as excinfo, dbguard.guarded("default", timeout=1) as cursor:
        cursor.execute("CREATE TABLE probe_wrote_this (id integer)")

    assert dbguard.classify(excinfo.value) is Failure.READ_ONLY
    with connection.cursor() as cursor:  # writes work again once the guard is gone
        cursor.execute("CREATE TABLE after_the_guard (id integer)")
        cursor.execute("DROP TABLE after_the_guard")
