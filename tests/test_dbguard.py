"""Error classification by driver codes, and the guard's limits, on real SQLite errors."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
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


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        (("SELECT * FROM missing_table",), Failure.MISSING_TABLE),
        (("PRAGMA query_only = ON", "CREATE TABLE t (id int)"), Failure.READ_ONLY),
    ],
)
def test_sqlite_errors_are_classified_by_code(
    statements: tuple[str, ...], expected: Failure
) -> None:
    assert dbguard.classify(error_of(*statements)) is expected


def test_interrupted_query_is_a_timeout() -> None:
    db = sqlite3.connect(":memory:")
    stop = time.monotonic() + 0.05
    db.set_progress_handler(lambda: int(time.monotonic() > stop), 1000)
    with pytest.raises(sqlite3.OperationalError) as excinfo:
        db.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
        ).fetchone()

    assert dbguard.classify(excinfo.value) is Failure.TIMEOUT


@pytest.mark.django_db(transaction=True)
def test_guard_is_read_only_and_restores_the_connection() -> None:
    from django.db import DatabaseError

    insert = "INSERT INTO django_content_type (app_label, model) VALUES ('probe', 'wrote')"
    with pytest.raises(DatabaseError) as excinfo, dbguard.guarded("default", timeout=1) as cursor:
        cursor.execute(insert)

    assert dbguard.classify(excinfo.value) is Failure.READ_ONLY
    with connection.cursor() as cursor:  # writes work again once the guard is gone
        cursor.execute(insert)
        cursor.execute("DELETE FROM django_content_type WHERE app_label = 'probe'")


@pytest.mark.django_db(transaction=True)
def test_guard_puts_the_session_limits_back() -> None:
    if connection.vendor != "mysql":
        pytest.skip("session variables are MySQL's; PostgreSQL uses SET LOCAL")
    timer = "max_statement_time" if connection.mysql_is_mariadb else "max_execution_time"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT @@SESSION.{timer}, @@SESSION.lock_wait_timeout")
        before = cursor.fetchone()

    with dbguard.guarded("default", timeout=0.25) as cursor:
        cursor.execute(f"SELECT @@SESSION.{timer}, @@SESSION.lock_wait_timeout")
        inside = cursor.fetchone()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT @@SESSION.{timer}, @@SESSION.lock_wait_timeout")
        after = cursor.fetchone()

    assert float(inside[0]) in (0.25, 250) and inside[1] == 1
    assert after == before


def _broken_settings(fault: str) -> dict:
    db = dict(connection.settings_dict)
    if fault == "unknown database":
        db["NAME"] = "hd_no_such_database"
    elif connection.vendor == "postgresql":  # trust authentication: a role that does not exist
        db["USER"] = "hd_no_such_role"
    else:
        db["PASSWORD"] = "hd-wrong-password"
    return db


@pytest.fixture
def broken_alias(request: pytest.FixtureRequest) -> Iterator[str]:
    """A database alias whose server answers but refuses the login or has no such database."""
    from django.db import connections
    from django.test import override_settings

    alias = "broken"
    db = _broken_settings(request.param)
    with override_settings(DATABASES={**settings.DATABASES, alias: db}):
        connections.settings[alias] = connections.configure_settings(
            {"default": dict(db), alias: db}
        )[alias]
        try:
            yield alias
        finally:
            connections[alias].close()
            del connections.settings[alias]
            del connections[alias]


@pytest.mark.skipif(connection.vendor == "sqlite", reason="a server refuses the login")
@pytest.mark.parametrize("broken_alias", ["unknown database", "wrong credentials"], indirect=True)
@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_a_refused_login_is_E002_on_every_check(broken_alias: str, django_db_blocker: Any) -> None:
    from health_deep import runner

    with django_db_blocker.unblock():  # no test database: the alias is refused at login
        found = [
            *runner.connection_findings(broken_alias),
            *runner.migration_findings(broken_alias),
            *runner.schema_findings(broken_alias),
        ]

    assert [f.id for f in found] == ["health_deep.E002"] * 3, found


# -- connections another thread can cut --------------------------------------------------


SLEEP = {"postgresql": "SELECT pg_sleep(30)", "mysql": "SELECT SLEEP(30)"}


@pytest.mark.django_db(transaction=True)
def test_a_statement_that_never_returns_is_cut_from_another_thread() -> None:
    import threading

    from django.db import DatabaseError

    if connection.vendor not in SLEEP:
        pytest.skip("a file has no socket to cut: SQLite's own timeouts end its waits")
    outcome: dict[str, Any] = {}
    lines: list[dbguard.Line] = []
    started = threading.Event()

    def stuck() -> None:
        line = dbguard.Line(seconds=30)
        lines.append(line)
        try:
            with dbguard.guarded("default", timeout=30) as cursor:
                started.set()
                cursor.execute(SLEEP[connection.vendor])  # as if the server had gone silent
        except DatabaseError as exc:
            outcome["error"] = exc
        finally:
            line.close()

    thread = threading.Thread(target=stuck, daemon=True)
    thread.start()
    started.wait(10)
    time.sleep(0.3)
    assert not lines[0].overdue(grace=1.0)  # within its own 30 s timeout: not stuck
    begun = time.monotonic()
    assert thread.is_alive(), outcome
    assert lines[0].cut() >= 1
    thread.join(5)

    assert not thread.is_alive()
    assert time.monotonic() - begun < 2
    assert dbguard.classify(outcome["error"]) is Failure.UNREACHABLE


def test_a_line_gives_its_connections_the_clients_limits() -> None:
    import threading

    from django.db import connections

    params: dict[str, Any] = {}

    def made() -> None:
        dbguard.Line(seconds=4.2)
        params.update(connections["default"].get_connection_params())
        connections["default"].close()

    thread = threading.Thread(target=made)
    thread.start()
    thread.join()

    limits = {
        "postgresql": {"connect_timeout": 5, "keepalives": 1, "tcp_user_timeout": 5000},
        # past the server's own limits (5 s): a statement it ends is a timeout, not a lost server
        "mysql": {"connect_timeout": 5, "read_timeout": 7, "write_timeout": 7},
        "sqlite": {"timeout": 4.2},
    }[connection.vendor]
    site = settings.DATABASES["default"].get("OPTIONS", {})
    expected = {key: site.get(key, value) for key, value in limits.items()}  # the site's win
    assert {key: params.get(key) for key in expected} == expected
    own = connection.get_connection_params()  # the site's own connections: untouched
    assert not (set(limits) - set(site)) & set(own)
