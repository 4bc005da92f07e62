"""User code under the guard: registered smoke queries on any alias, managers run while
planning, escapes from the transaction, and session state left behind."""

from __future__ import annotations

import io
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test.utils import override_settings

from health_deep import dbguard, memo, runner
from health_deep.findings import Finding
from tests.smokeapp.models import Author, Publisher
from tests.zoo_other.models import Ledger

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

MARIADB = connection.vendor == "mysql"
PG = connection.vendor == "postgresql"


def smoke_with(query: object, **setting: object) -> list[Finding]:
    with override_settings(HEALTH_DEEP={"SMOKE_QUERIES": {"library:ping": query}, **setting}):
        return [f for f in runner.smoke_findings() if f.id not in ("health_deep.I305",)]


def ids(findings: list[Finding]) -> list[str]:
    return [f.id for f in findings]


# -- case 4: every alias a registered query touches is guarded --------------------------------


def test_a_write_on_another_alias_is_refused_and_named_by_that_alias() -> None:
    def writes_on_other() -> object:
        Ledger.objects.create(entry="written by a probe", amount=1)  # the router: 'other'
        return Ledger.objects.all()

    found = smoke_with(writes_on_other)

    assert ids(found) == ["health_deep.E304"]
    assert found[0].alias == "other"
    assert Ledger.objects.count() == 0


def test_a_read_on_another_alias_runs_and_is_clean() -> None:
    Ledger.objects.create(entry="a", amount=2)

    assert smoke_with(lambda: Ledger.objects.all()) == []


def test_a_slow_query_on_another_alias_ends_at_the_deadline() -> None:
    from django.db.models.expressions import RawSQL

    spin = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
        "WHERE i < 100000000) SELECT count(*) FROM n"
    )
    Ledger.objects.create(entry="a", amount=2)
    started = time.monotonic()

    found = smoke_with(
        lambda: Ledger.objects.annotate(spin=RawSQL(spin, [])),
        STATEMENT_TIMEOUT=0.3,
        SMOKE_DEADLINE=0.5,
    )

    assert time.monotonic() - started < 2
    assert ids(found) == ["health_deep.E302"]
    assert found[0].alias == "other"


# -- case 5: managers run while planning are guarded, and no fact blocks another ---------------


@override_settings(ROOT_URLCONF="tests.urls_noisy")
def test_a_manager_that_writes_while_planning_writes_nothing() -> None:
    err = io.StringIO()

    call_command("check", databases=["default"], stdout=io.StringIO(), stderr=err)
    findings = runner.smoke_findings()

    assert Publisher.objects.count() == 0
    assert "health_deep.E304" in ids(findings)
    assert "health_deep.E304" in err.getvalue()


def test_a_slow_code_fact_does_not_block_another() -> None:
    release = threading.Event()
    slow = threading.Thread(target=memo.cached, args=("test:slow", lambda: release.wait(5)))
    slow.start()
    time.sleep(0.05)
    started = time.monotonic()

    value = memo.cached("test:fast", lambda: 42)

    release.set()
    slow.join()
    assert value == 42 and time.monotonic() - started < 0.5


# -- case 6: escapes from the guard ------------------------------------------------------------


def test_a_commit_through_the_cursor_is_refused_and_the_write_after_it_undone() -> None:
    def commits() -> object:
        with connection.cursor() as cursor:
            cursor.execute("COMMIT")
        Author.objects.create(name="after a commit")
        return Author.objects.all()

    found = smoke_with(commits)

    assert ids(found) == ["health_deep.E304"]
    assert Author.objects.count() == 0


def test_a_commit_through_the_driver_is_detected() -> None:
    def commits() -> object:
        connection.connection.commit()
        return Author.objects.none()

    found = smoke_with(commits)

    assert ids(found) == ["health_deep.E304"]
    assert "ended the guard's transaction" in found[0].details["detail"]


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE hd_probe_made (id integer)",
        "TRUNCATE TABLE smokeapp_author"
        if connection.vendor != "sqlite"
        else "DROP TABLE smokeapp_author",
    ],
)
def test_ddl_from_a_smoke_query_is_refused(statement: str) -> None:
    Author.objects.create(name="kept")

    def ddl() -> object:
        with connection.cursor() as cursor:
            cursor.execute(statement)
        return Author.objects.all()

    found = smoke_with(ddl)

    assert ids(found) == ["health_deep.E304"]
    assert Author.objects.count() == 1
    assert "hd_probe_made" not in connection.introspection.table_names()


# -- case 7: session state is left as it was found --------------------------------------------


def session_statement() -> str:
    if PG:
        return "SELECT pg_advisory_lock(4242)"
    if MARIADB:
        return "SET SESSION sql_mode = ''"
    return "PRAGMA query_only = OFF"


def test_session_changes_from_a_smoke_query_are_refused() -> None:
    def changes_session() -> object:
        with connection.cursor() as cursor:
            cursor.execute(session_statement())
        return Author.objects.none()

    found = smoke_with(changes_session)

    assert ids(found) == ["health_deep.E304"]
    with connection.cursor() as cursor:
        if PG:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
            assert cursor.fetchone()[0] == 0
        elif MARIADB:
            cursor.execute("SELECT @@SESSION.sql_mode")
            assert "STRICT_TRANS_TABLES" in cursor.fetchone()[0]


@pytest.mark.skipif(not MARIADB, reason="MariaDB session variables")
def test_user_variables_and_named_locks_are_refused() -> None:
    for statement in (
        "SELECT @hd := 1",
        "SELECT GET_LOCK('hd_probe', 0)",
        "SET @hd = 1",
        "SET SESSION TRANSACTION READ ONLY",
    ):

        def run(sql: str = statement) -> object:
            with connection.cursor() as cursor:
                cursor.execute(sql)
            return Author.objects.none()

        assert ids(smoke_with(run)) == ["health_deep.E304"], statement
    with connection.cursor() as cursor:
        cursor.execute("SELECT @hd, IS_USED_LOCK('hd_probe'), @@SESSION.tx_read_only")
        assert cursor.fetchone() == (None, None, 0)
    Author.objects.create(name="writes still work")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite PRAGMA")
def test_an_alias_configured_read_only_stays_read_only() -> None:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA query_only = ON")
    try:
        with dbguard.guarded("default", timeout=1) as cursor:
            cursor.execute("SELECT 1")
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA query_only")
            assert cursor.fetchone()[0] == 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA query_only = OFF")


def test_no_connection_is_left_inside_a_transaction() -> None:
    smoke_with(lambda: Ledger.objects.all())

    for alias in ("default", "other"):
        assert not connections[alias].in_atomic_block
