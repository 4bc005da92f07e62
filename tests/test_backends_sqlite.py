"""SQLite's home, pure: column CHECKs read from CREATE TABLE text, and type spellings."""

from __future__ import annotations

import pytest

from health_deep.backends.sqlite import catalog, types


@pytest.mark.parametrize(
    ("create", "columns"),
    [
        ('CREATE TABLE "t" ("id" integer, "n" integer unsigned NOT NULL CHECK ("n" >= 0))', ["n"]),
        ('CREATE TABLE "t" ("a, b" integer CHECK ("a, b" >= 0), c text DEFAULT \'x,(\')', ["a, b"]),
        (
            'CREATE TABLE t (m text CHECK ((JSON_VALID("m") OR "m" IS NULL)), '
            'CONSTRAINT "named" CHECK ("m" <> \'\'))',
            ["m"],
        ),
        ("CREATE TABLE t (id integer, CHECK (id > 0))", []),  # table-level: not a column's own
        (
            "CREATE TABLE t ([odd name] int CHECK ([odd name] > 0), `q` int CHECK (`q` < 9))",
            ["odd name", "q"],
        ),
    ],
)
def test_sqlite_column_checks_are_read_from_the_create_text(
    create: str, columns: list[str]
) -> None:
    assert catalog.column_checks(create) == columns


@pytest.mark.parametrize(
    ("expected", "actual", "verdict"),
    [
        # Django's AutoField -> BigAutoField leaves the FK columns pointing at it as they were.
        ("bigint", "INTEGER", "same"),
        ("integer", "bigint", "same"),
        ("integer unsigned", "integer", "same"),
        ("varchar(100)", "varchar(50)", "same"),  # SQLite enforces no length
        ("datetime", "date", "compatible"),  # a converter reads the declared name
        ("bool", "integer", "compatible"),
        ("integer", "text", "incompatible"),
    ],
)
def test_sqlite_type_spellings(expected: str, actual: str, verdict: str) -> None:
    assert types.judge(expected, actual).value == verdict
