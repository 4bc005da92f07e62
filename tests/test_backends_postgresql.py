"""PostgreSQL's home, pure: type spellings and catalog shaping, no server needed."""

from __future__ import annotations

import pytest

from health_deep.backends.base.types import Verdict
from health_deep.backends.postgresql import catalog, types


@pytest.mark.parametrize(
    ("expected", "actual", "verdict"),
    [
        ("varchar(100)", "character varying(100)", Verdict.SAME),
        ("varchar(100)", "character varying(50)", Verdict.NARROWER),  # shrink: critical here
        ("varchar(100)", "character varying(200)", Verdict.WIDER),
        ("varchar(100)", "text", Verdict.WIDER),
        ("serial", "integer", Verdict.SAME),
        ("bigserial", "integer", Verdict.NARROWER),
        ("integer", "bigint", Verdict.WIDER),
        ("timestamp with time zone", "timestamp with time zone", Verdict.SAME),
        ("timestamp with time zone", "timestamp(3) with time zone", Verdict.NARROWER),
        ("numeric(10, 2)", "numeric(10,2)", Verdict.SAME),
        ("numeric(10, 2)", "numeric", Verdict.WIDER),
        ("jsonb", "json", Verdict.COMPATIBLE),
        ("uuid", "character varying(32)", Verdict.INCOMPATIBLE),
        ("integer[]", "integer", Verdict.INCOMPATIBLE),
        ("varchar(10)", "geometry", Verdict.UNKNOWN),  # not guessed
    ],
)
def test_postgresql_type_spellings(expected: str, actual: str, verdict: Verdict) -> None:
    assert types.judge(expected, actual) is verdict


def test_catalog_rows_shape_into_tables_with_named_key_columns() -> None:
    data = {
        "tables": [[1, "public", "shop_item", "r", 1, True], [2, "public", "shop_v", "v", 1]],
        "columns": [
            [1, 1, "id", "bigint", False, True, True],
            [1, 2, "sku", "character varying(20)", False, False, False],
        ],
        "constraints": [[1, "shop_item_pkey", "p", True, [1], None, None, None]],
        "indexes": [[1, "shop_item_sku_idx", False, False, False, False, [2]]],
    }

    shaped = catalog.shape(data, explicit_schemas=set())

    item = shaped.tables["shop_item"]
    assert (item.kind, item.fills_on_insert, shaped.tables["shop_v"].kind) == (
        "table",
        True,
        "view",
    )
    assert {(c.name, c.kind, c.columns, c.valid) for c in item.constraints} == {
        ("shop_item_pkey", "primary", ("id",), True),
        ("shop_item_sku_idx", "index", ("sku",), False),
    }
