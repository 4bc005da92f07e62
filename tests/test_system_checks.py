"""The same findings through ``manage.py check``."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.test.utils import override_settings

from health_deep.system_checks import check_settings


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_check_database_reports_unapplied_as_one_warning(restore_django_migrations: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'testapp'")
    err = io.StringIO()

    call_command("check", databases=["default"], stderr=err, stdout=io.StringIO())

    output = err.getvalue()
    assert output.count("(health_deep.E101)") == 1
    assert "testapp.0001_initial, testapp.0002_tidy_names" in output


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_migrate_does_not_warn_about_what_it_is_about_to_apply(
    restore_django_migrations: None,
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'testapp' AND name = '0002_tidy_names'"
        )
    err, out = io.StringIO(), io.StringIO()

    call_command("migrate", skip_checks=False, stdout=out, stderr=err)

    assert "Applying testapp.0002_tidy_names... OK" in out.getvalue()
    assert "health_deep.E101" not in err.getvalue() + out.getvalue()


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_check_without_database_stays_offline() -> None:
    out = io.StringIO()

    call_command("check", stdout=out)

    assert "no issues" in out.getvalue()


@pytest.mark.parametrize(
    ("setting", "word"),
    [
        ({"STATEMENT_TIMEOUT": "1s"}, "STATEMENT_TIMEOUT"),
        ({"STATEMENT_TIMEOUT": 0}, "STATEMENT_TIMEOUT"),
        ({"DETAILS": "sometimes"}, "DETAILS"),
        ({"TOKEN": "short"}, "TOKEN"),
        ({"DATABASES": "default"}, "DATABASES"),
        ({"DATABASES": ["nope"]}, "nope"),
        ({"IGNORE_APPS": [1]}, "IGNORE_APPS"),
        ({"TYPO": 1}, "TYPO"),
        ("not a dict", "must be a dict"),
    ],
)
def test_E001_bad_setting_is_an_error_naming_it(setting: object, word: str) -> None:
    with override_settings(HEALTH_DEEP=setting):
        messages = check_settings()

    assert [m.id for m in messages] == ["health_deep.E001"]
    assert word in messages[0].msg


def test_E001_stops_manage_py_check() -> None:
    with override_settings(HEALTH_DEEP={"DETAILS": 3}), pytest.raises(SystemCheckError):
        call_command("check", stdout=io.StringIO(), stderr=io.StringIO())


def test_valid_setting_passes() -> None:
    with override_settings(
        HEALTH_DEEP={
            "STATEMENT_TIMEOUT": 0.25,
            "DETAILS": "never",
            "TOKEN": "x" * 32,
            "DATABASES": ["default"],
        }
    ):
        assert check_settings() == []
