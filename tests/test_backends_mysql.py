"""MySQL's and MariaDB's home, pure: type spellings and catalog shaping, no server needed."""

from __future__ import annotations

import pytest

from health_deep.backends.base.types import Verdict
from health_deep.backends.mysql import catalog, types
from health_deep.schema import compare
from health_deep.schema.model import ExpectedColumn, ExpectedTable


@pytest.mark.parametrize(
    ("expected", "actual", "verdict"),
    [
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
    ],
)
def test_mysql_type_spellings(expected: str, actual: str, verdict: Verdict) -> None:
    assert types.judge(expected, actual) is verdict


def _renamed_positive_field(check_name: str, clause: str) -> list:
    rows = (
        ("table", "shop_item", "BASE TABLE", None, None, None, None, None),
        ("column", "shop_item", "id", "int(11)", "NO", "0", "1", 1),
        ("column", "shop_item", "stock", "int(10) unsigned", "NO", "0", "0", 2),
        ("index", "shop_item", "PRIMARY", "id", "1", None, None, 1),
        ("check", "shop_item", check_name, clause, "1", None, None, None),
        ("mode", None, "STRICT_TRANS_TABLES", None, None, None, None, None),
    )
    expected = ExpectedTable(
        name="shop_item",
        model="shop.Item",
        managed=True,
        columns=(
            ExpectedColumn(
                "id", "shop.Item.id", "integer AUTO_INCREMENT", False, primary_key=True, auto=True
            ),
            ExpectedColumn("stock", "shop.Item.stock", "integer UNSIGNED", False, check=True),
        ),
    )
    return compare.compare(alias="default", expected=[expected], catalog=catalog.shape(rows))


def test_a_column_check_is_judged_by_its_clause_not_its_name() -> None:
    # MariaDB: created on `quantity`, renamed to `stock` by a later migration; the CHECK keeps
    # the name `quantity` and its clause follows the column.
    assert _renamed_positive_field("quantity", "`stock` >= 0") == []


def test_a_column_check_on_a_column_the_model_lacks_is_still_reported() -> None:
    found = _renamed_positive_field("stock", "`stock` >= 0 and `gone` > 1")

    assert [f.id for f in found] == ["health_deep.W216"]


@pytest.mark.parametrize(("folds", "found"), [(True, True), (False, False)])
def test_table_names_fold_only_where_the_server_folds_them(folds: bool, found: bool) -> None:
    rows = (
        ("table", "Shop_Item", "BASE TABLE", "InnoDB", None, None, None, None),
        ("column", "Shop_Item", "ID", "int(11)", "0", "0", "1", 1),
    )

    shaped = catalog.shape(rows, tables_case_insensitive=folds)

    assert (shaped.table("shop_item") is not None) is found
    assert shaped.table("Shop_Item") is not None
    assert "id" in shaped.table("Shop_Item").columns  # column names always fold
