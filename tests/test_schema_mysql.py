"""MySQL/MariaDB specifics: type spellings (pure, run everywhere) and, on the real MariaDB
server, what only that backend has: JSON as longtext + CHECK, sql_mode, metadata locks."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from health_deep import runner
from health_deep.schema.types import Verdict, judge
from tests.locks import write_locked
from tests.test_schema_drift import MY, drift, modify, one, sql

only_mysql = pytest.mark.skipif(not MY, reason="MySQL/MariaDB only")


@pytest.mark.parametrize(("expected", "actual", "verdict"), [
    ("integer", "int(11)", Verdict.SAME),  # MariaDB's display width
    ("integer", "int", Verdict.SAME),  # MySQL 8 drops it
    ("bool", "tinyint(1)", Verdict.SAME),
    ("bigint AUTO_INCREMENT", "bigint(20)", Verdict.SAME),
    ("integer UNSIGNED", "int(10) unsigned", Verdict.SAME),
    ("integer UNSIGNED", "int(11)", Verdict.NARROWER),  # loses 2^31 .. 2^32-1
    ("smallint", "int(11)", Verdict.WIDER),
    ("bigint", "int(11)", Verdict.NARROWER),
    ("varchar(100)", "varchar(50)", Verdict.NARROWER),
    ("varchar(100)", "varchar(250)", Verdict.WIDER),
    ("varchar(100)", "longtext", Verdict.WIDER),
    ("longtext", "text", Verdict.NARROWER),  # 64 KB
    ("numeric(10, 2)", "decimal(10,2)", Verdict.SAME),
    ("numeric(8, 3)", "decimal(6,3)", Verdict.NARROWER),
    ("numeric(8, 0)", "decimal(8)", Verdict.SAME),  # a missing scale is 0, not 10
    ("numeric(8, 2)", "decimal", Verdict.NARROWER),  # decimal = decimal(10,0): no cents
    ("datetime", "datetime(0)", Verdict.SAME),
    ("double precision", "double", Verdict.SAME),
    ("datetime(6)", "datetime", Verdict.NARROWER),  # microseconds cut
    ("datetime(6)", "timestamp(6)", Verdict.NARROWER),  # ends in 2038
    ("json", "json", Verdict.SAME),
    ("json", "longtext", Verdict.COMPATIBLE),
    ("uuid", "char(32)", Verdict.INCOMPATIBLE),  # Django writes a UUID, not 32 hex digits
    ("bool", "date", Verdict.INCOMPATIBLE),
    ("varchar(10)", "geometry", Verdict.UNKNOWN),  # not guessed
])
def test_mysql_type_spellings(expected: str, actual: str, verdict: Verdict) -> None:
    assert judge(expected, actual, vendor="mysql") is verdict


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
    sql('ALTER TABLE "testapp_integration" ADD COLUMN "notes" longtext NULL '
        "CHECK (\"notes\" <> '')")

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

    assert found == {("health_deep.E204", "zoo_animals_custom.legs"),  # 2^31.. cannot fit
                     ("health_deep.W215", "zoo_animals_custom.legs")}  # and -1 would


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


def _renamed_positive_field(check_name: str, clause: str) -> list:
    from health_deep.schema import catalog_mysql, compare
    from health_deep.schema.model import ExpectedColumn, ExpectedTable

    rows = (("table", "shop_item", "BASE TABLE", None, None, None, None, None),
            ("column", "shop_item", "id", "int(11)", "NO", "0", "1", 1),
            ("column", "shop_item", "stock", "int(10) unsigned", "NO", "0", "0", 2),
            ("index", "shop_item", "PRIMARY", "id", "1", None, None, 1),
            ("check", "shop_item", check_name, clause, "1", None, None, None),
            ("mode", None, "STRICT_TRANS_TABLES", None, None, None, None, None))
    expected = ExpectedTable(name="shop_item", model="shop.Item", managed=True, columns=(
        ExpectedColumn("id", "shop.Item.id", "integer AUTO_INCREMENT", False, primary_key=True,
                       auto=True),
        ExpectedColumn("stock", "shop.Item.stock", "integer UNSIGNED", False, check=True)))
    return compare.compare(alias="default", expected=[expected],
                           catalog=catalog_mysql.shape(rows))


def test_a_column_check_is_judged_by_its_clause_not_its_name() -> None:
    # MariaDB: created on `quantity`, renamed to `stock` by a later migration; the CHECK keeps
    # the name `quantity` and its clause follows the column.
    assert _renamed_positive_field("quantity", "`stock` >= 0") == []


def test_a_column_check_on_a_column_the_model_lacks_is_still_reported() -> None:
    found = _renamed_positive_field("stock", "`stock` >= 0 and `gone` > 1")

    assert [f.id for f in found] == ["health_deep.W216"]
