"""``manage.py health_deep``: exit codes, formats and ``accept``, against the real test DB."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import override_settings

from health_deep.history.fingerprint import ALGORITHM
from health_deep.models import LedgerEntry

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("health_deep", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_healthy_database_exits_0() -> None:
    code, out = run()

    assert code == 0
    assert out.startswith("health_deep: pass")


def test_unapplied_migration_exits_1_and_names_it(restore_django_migrations: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'testapp'")

    code, out = run()

    assert code == 1
    assert "health_deep.E101 [default] testapp.0001_initial" in out
    assert "testapp.0002_tidy_names" in out


def test_json_format_carries_status_and_findings(restore_django_migrations: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'testapp' AND name = '0002_tidy_names'"
        )

    code, out = run("--format", "json")

    body = json.loads(out)
    assert code == 1
    assert body["status"] == "fail"
    assert {f["id"] for f in body["findings"] if f["severity"] == "critical"} == {
        "health_deep.E101"
    }


def test_warnings_exit_0_unless_strict(restore_django_migrations: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) "
            "VALUES ('testapp', '0099_ghost', CURRENT_TIMESTAMP)"
        )

    assert run()[0] == 0
    assert run("--strict")[0] == 1


@override_settings(HEALTH_DEEP={"STATEMENT_TIMEOUT": -1})
def test_broken_setting_exits_2_naming_it() -> None:
    with pytest.raises(CommandError, match="STATEMENT_TIMEOUT") as excinfo:
        call_command("health_deep", stdout=io.StringIO())

    assert excinfo.value.returncode == 2


def test_E103_then_accept_records_who_and_why() -> None:
    # The database was migrated with another version of 0002: its recorded print differs.
    LedgerEntry.objects.filter(app="testapp", name="0002_tidy_names").update(
        fingerprint=f"{ALGORITHM}:{'0' * 32}:{'0' * 32}"
    )
    assert run()[0] == 1

    out = io.StringIO()
    call_command(
        "health_deep",
        "accept",
        "testapp.0002_tidy_names",
        "--reason",
        "comment-only change reviewed",
        "--by",
        "alice",
        stdout=out,
    )
    code, report = run("--format", "json")

    assert "Accepted testapp.0002_tidy_names" in out.getvalue()
    assert code == 0
    accepted = [f for f in json.loads(report)["findings"] if f["id"] == "health_deep.I109"]
    assert accepted[0]["details"]["accepted_by"] == "alice"
    assert accepted[0]["details"]["reason"] == "comment-only change reviewed"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("testapp", "app_label.migration_name"),
        ("testapp.0042_nope", "No migration testapp.0042_nope"),
    ],
)
def test_accept_refuses_what_it_cannot_accept(name: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("health_deep", "accept", name, "--reason", "x", stdout=io.StringIO())


def test_post_migrate_fingerprints_every_applied_migration() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        recorded = set(cursor.fetchall())

    ledger = set(LedgerEntry.objects.values_list("app", "name"))

    assert ledger == recorded


def test_an_unknown_database_alias_exits_2() -> None:
    with pytest.raises(CommandError) as excinfo:
        call_command("health_deep", "--database", "nosuch", stdout=io.StringIO())

    assert excinfo.value.returncode == 2
    assert "nosuch" in str(excinfo.value)
