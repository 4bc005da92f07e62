"""A damaged or missing ledger, and a router that raises, are findings: never a traceback,
and never a failed ``migrate``."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from django.core import checks
from django.core.management import call_command
from django.db import connection
from django.test.utils import override_settings

from health_deep import runner
from health_deep.findings import Severity
from health_deep.system_checks import check_migrations

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

ALTER = {
    "postgresql": (
        "ALTER TABLE health_deep_ledger ALTER COLUMN fingerprint DROP NOT NULL",
        "ALTER TABLE health_deep_ledger ALTER COLUMN fingerprint SET NOT NULL",
    ),
    "mysql": (
        "ALTER TABLE health_deep_ledger MODIFY fingerprint varchar(80) NULL",
        "ALTER TABLE health_deep_ledger MODIFY fingerprint varchar(80) NOT NULL",
    ),
}


def ids(findings: list) -> list[str]:
    return sorted(f.id for f in findings)


def problems(findings: list) -> list[str]:
    """Ids of warnings and criticals (adoption notes, I105, depend on how the test database
    was migrated)."""
    return sorted(f.id for f in findings if f.severity >= Severity.WARNING)


@pytest.fixture(params=["blob", "null"])
def damaged_row(request: pytest.FixtureRequest) -> Iterator[str]:
    """One ledger row whose fingerprint is not text: a blob (SQLite) or NULL."""
    if request.param == "blob" and connection.vendor != "sqlite":
        pytest.skip("only SQLite stores a blob in a varchar column")
    if request.param == "null" and connection.vendor == "sqlite":
        pytest.skip("SQLite cannot drop NOT NULL without rebuilding the table")
    undo = ALTER.get(connection.vendor)
    with connection.cursor() as cursor:
        if request.param == "null" and undo:
            cursor.execute(undo[0])
        value = "X'DEADBEEF'" if request.param == "blob" else "NULL"
        cursor.execute(
            f"UPDATE health_deep_ledger SET fingerprint = {value} "
            "WHERE app = 'testapp' AND name = '0001_initial'"
        )
    yield request.param
    with connection.cursor() as cursor:
        if request.param == "null" and undo:
            cursor.execute("DELETE FROM health_deep_ledger WHERE fingerprint IS NULL")
            cursor.execute(undo[1])


def test_W110_damaged_ledger_row_is_a_finding(damaged_row: str) -> None:
    found = [f for f in runner.migration_findings("default") if f.id == "health_deep.W110"]

    assert problems(runner.migration_findings("default")) == ["health_deep.W110"]
    assert found[0].details["migrations"] == ["testapp.0001_initial"]


def test_damaged_ledger_row_neither_fails_migrate_nor_check(damaged_row: str) -> None:
    err = io.StringIO()
    call_command("check", databases=["default"], stdout=io.StringIO(), stderr=err)
    assert "health_deep.W110" in err.getvalue()

    call_command("migrate", skip_checks=False, stdout=io.StringIO(), stderr=io.StringIO())

    assert problems(runner.migration_findings("default")) == []  # recorded again


def test_damaged_ledger_row_is_reported_by_the_command(damaged_row: str) -> None:
    out = io.StringIO()

    call_command("health_deep", "--check", "migrations", stdout=out)  # warning only: exit 0

    assert "health_deep.W110" in out.getvalue()


def test_W108_hint_recreates_a_dropped_ledger() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE health_deep_ledger")

    found = runner.migration_findings("default")
    assert problems(found) == ["health_deep.W108"]
    # Do what the hint says, word for word.
    for command in found[0].hint.split("`")[1::2]:
        words = command.split()
        assert words[:2] == ["manage.py", "migrate"]
        call_command(*words[1:], stdout=io.StringIO(), stderr=io.StringIO())

    assert problems(runner.migration_findings("default")) == []
    assert "health_deep.I105" in ids(runner.migration_findings("default"))  # adopted


class RaisingRouter:
    def db_for_read(self, model: object, **hints: object) -> None:
        raise RuntimeError("router bug")

    def allow_migrate(self, db: str, app_label: str, **hints: object) -> bool:
        raise RuntimeError("router bug")


@override_settings(DATABASE_ROUTERS=[RaisingRouter()])
def test_a_raising_router_is_E004_naming_the_routers() -> None:
    found = runner.migration_findings("default") + runner.schema_findings("default")

    assert ids(found) == ["health_deep.E004", "health_deep.E004"]
    assert {f.object for f in found} == {"DATABASE_ROUTERS"}
    assert "RuntimeError" in found[0].message


@override_settings(DATABASE_ROUTERS=[RaisingRouter()])
def test_a_raising_router_is_a_system_check_warning_not_a_crash() -> None:
    # Django's own model checks raise with this router; health_deep's must not.
    messages = check_migrations(databases=["default"])

    # The routers' E004; the registered smoke query, which this router really breaks; and the
    # coverage (planning is per endpoint: the others are left uncovered, no URLconf blamed).
    assert {m.id for m in messages} == {"health_deep.E004", "health_deep.E301", "health_deep.I305"}
    assert all(m.level == checks.WARNING for m in messages if m.id != "health_deep.I305")
