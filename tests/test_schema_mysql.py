"""MySQL/MariaDB specifics on the real MariaDB server: JSON as longtext + CHECK, sql_mode,
metadata locks. The pure spelling and catalog tables are in ``test_backends_mysql.py``."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from health_deep import runner
from tests.locks import write_locked
from tests.test_schema_drift import MY, drift, modify, one, sql

only_mysql = pytest.mark.skipif(not MY, reason="MySQL/MariaDB only")


@only_mysql
@pytest.mark.django_db
def test_json_without_its_json_valid_check_is_longtext_not_json() -> None:
    modify("zoo_animals_custom", "meta", "longtext")

    finding = one("health_deep.W210", "zoo_animals_custom.meta")

    assert finding.details["actual"] == "longtext"


@only_mysql
@pytest.mark.django_db
def test_another_check_on_a_longtext_column_does_not_make_it_json() -> None:
    # Django's own MariaDB introspection reads any such column as a JSONField.
    sql(
        'ALTER TABLE "testapp_integration" ADD COLUMN "notes" longtext NULL CHECK ("notes" <> \'\')'
    )

    finding = one("health_deep.I220", "testapp_integration.notes")

    assert finding.details["actual"] == "longtext"


@only_mysql
@pytest.mark.django_db
def test_a_positive_field_needs_no_check_when_its_column_is_unsigned() -> None:
    # An AlterField on MySQL restates the column with MODIFY, which drops its column-level
    # CHECK (Wagtail's documents.file_size ends up so); UNSIGNED still refuses negatives.
    modify("zoo_animals_custom", "legs", "integer UNSIGNED")

    assert drift() == []


@only_mysql
@pytest.mark.django_db
def test_a_positive_field_on_a_signed_column_is_narrower() -> None:
    modify("zoo_animals_custom", "legs", "integer")

    found = {(f.id, f.object) for f in drift()}

    assert found == {
        ("health_deep.E204", "zoo_animals_custom.legs"),  # 2^31.. cannot fit
        ("health_deep.W215", "zoo_animals_custom.legs"),
    }  # and -1 would


@only_mysql
@pytest.mark.django_db
def test_W218_sql_mode_without_strict_cuts_values_silently() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@SESSION.sql_mode")
        mode = cursor.fetchone()[0]
        cursor.execute("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'")
    try:
        finding = one("health_deep.W218", "sql_mode")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION sql_mode = %s", [mode])

    assert "STRICT_TRANS_TABLES" in finding.hint
    assert drift() == []


@only_mysql
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_locked_tables_do_not_make_the_checks_hang() -> None:
    with write_locked("health_deep_ledger", "testapp_integration"):
        started = time.monotonic()
        schema = runner.schema_findings("default")
        migrations = runner.migration_findings("default")
        elapsed = time.monotonic() - started

    assert schema == []  # information_schema answers while the table is locked
    assert [f.id for f in migrations] == ["health_deep.E003"]
    assert elapsed < 3
