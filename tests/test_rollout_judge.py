"""The deploy plan's rules on plain data: no database, no migration files."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.db import migrations, models

from health_deep.rollout.judge import catalog_of, judge, unknowable
from health_deep.rollout.releases import Step
from health_deep.schema.model import ExpectedColumn, ExpectedConstraint, ExpectedTable

ID = ExpectedColumn("id", "shop.Order.id", "bigint", nullable=False, primary_key=True, auto=True)
TOTAL = ExpectedColumn("total", "shop.Order.total", "numeric(10, 2)", nullable=False)
NOTE = ExpectedColumn("note", "shop.Order.note", "text", nullable=True)


def order(
    *columns: ExpectedColumn, constraints: tuple[ExpectedConstraint, ...] = ()
) -> ExpectedTable:
    return ExpectedTable("shop_order", "shop.Order", True, (ID, *columns), constraints)


def ids(old: list[ExpectedTable], after: list[ExpectedTable], before: Any = None) -> list[str]:
    found = judge(
        alias="default",
        vendor="postgresql",
        old=old,
        before=old if before is None else before,
        after=after,
        blame=lambda model, field: None,
    )
    return [f"{f.id} {f.object}" for f in found]


def test_the_same_schema_breaks_nothing() -> None:
    assert ids([order(TOTAL, NOTE)], [order(TOTAL, NOTE)]) == []


def test_E402_a_dropped_column() -> None:
    assert ids([order(TOTAL, NOTE)], [order(TOTAL)]) == ["health_deep.E402 shop_order.note"]


def test_E401_a_dropped_table() -> None:
    assert ids([order(TOTAL)], []) == ["health_deep.E401 shop_order"]


def test_E403_a_narrower_type() -> None:
    narrow = dataclasses.replace(TOTAL, db_type="numeric(6, 2)")

    assert ids([order(TOTAL)], [order(narrow)]) == ["health_deep.E403 shop_order.total"]


def test_a_wider_type_is_safe() -> None:
    wide = dataclasses.replace(TOTAL, db_type="numeric(14, 2)")

    assert ids([order(TOTAL)], [order(wide)]) == []


def test_E404_not_null_where_the_old_models_allow_null() -> None:
    strict = dataclasses.replace(NOTE, nullable=False)

    assert ids([order(NOTE)], [order(strict)]) == ["health_deep.E404 shop_order.note"]


def test_E405_a_new_not_null_column_without_default_and_not_with_one() -> None:
    new = ExpectedColumn("code", "shop.Order.code", "varchar(5)", nullable=False)

    assert ids([order()], [order(new)]) == ["health_deep.E405 shop_order.code"]
    assert ids([order()], [order(dataclasses.replace(new, db_default=True))]) == []
    assert ids([order()], [order(dataclasses.replace(new, nullable=True))]) == []


def test_drift_already_there_before_the_plan_is_not_blamed_on_it() -> None:
    # The column went from the state only, two releases ago; the database kept it.
    kept = ExpectedColumn("legacy", "shop.Order.legacy", "integer", nullable=False)

    assert ids([order()], [order(kept)], before=[order(kept)]) == []


def test_W406_a_unique_constraint_on_columns_the_old_release_writes() -> None:
    unique = (ExpectedConstraint("unique", ("total",), "one_total"),)

    assert ids([order(TOTAL)], [order(TOTAL, constraints=unique)]) == [
        "health_deep.W406 shop_order.one_total"
    ]


def test_a_constraint_on_a_new_nullable_column_is_safe() -> None:
    ref = ExpectedColumn("ref_id", "shop.Order.ref", "bigint", nullable=True, fk=("shop_ref", "id"))
    code = ExpectedColumn("code", "shop.Order.code", "varchar(5)", nullable=True, unique=True)

    assert ids([order()], [order(ref, code)]) == []


def test_the_catalog_of_a_state_names_what_django_names_by_itself() -> None:
    ref = ExpectedColumn("ref_id", "shop.Order.ref", "bigint", nullable=True, fk=("shop_ref", "id"))

    table = catalog_of([order(ref)], vendor="postgresql").tables["shop_order"]

    assert {c.name for c in table.constraints} == {
        "primary key(id)",
        "index(ref_id)",
        "foreign key(ref_id)",
    }


def forwards(apps: Any, schema_editor: Any) -> None:  # pragma: no cover - never run
    pass


def test_sql_and_python_are_reported_never_passed_silently() -> None:
    steps = [
        Step(("shop", "0002_x"), 1, migrations.RunSQL("UPDATE shop_order SET note = ''")),
        Step(("shop", "0002_x"), 2, migrations.RunPython(forwards)),
        Step(("shop", "0002_x"), 3, migrations.AddField("order", "n", models.TextField(null=True))),
    ]

    found = unknowable(alias="default", steps=steps)

    assert [(f.id, f.object) for f in found] == [
        ("health_deep.W407", "shop.0002_x operation 1"),
        ("health_deep.I408", "shop.0002_x operation 2"),
    ]


def test_a_new_auto_key_is_safe() -> None:
    # django-rest-passwordreset 0002: the key becomes a plain unique column, a serial id the
    # primary key; the running release's inserts leave the id to the database.
    key = ExpectedColumn("key", "t.Token.key", "varchar(64)", nullable=False, primary_key=True)
    unique_key = dataclasses.replace(key, primary_key=False, unique=True)
    token = ExpectedTable("t_token", "t.Token", True, (key,))
    after = ExpectedTable(
        "t_token", "t.Token", True, (dataclasses.replace(ID, field="t.Token.id"), unique_key)
    )

    assert ids([token], [after]) == []


def test_a_unique_over_columns_already_unique_is_safe_but_not_over_a_partial_one() -> None:
    # django-allauth 0003: email was unique, (user, email) cannot refuse anything more.
    email = ExpectedColumn("email", "a.Email.email", "varchar(254)", nullable=False, unique=True)
    user = ExpectedColumn("user_id", "a.Email.user", "bigint", nullable=False, fk=("u", "id"))
    pair = (ExpectedConstraint("unique", ("user_id", "email")),)
    verified = (ExpectedConstraint("unique", ("email",), "verified_email", partial=True),)
    plain = dataclasses.replace(email, unique=False)

    assert ids([order(email, user)], [order(email, user, constraints=pair)]) == []
    assert ids(
        [order(plain, user, constraints=verified)],
        [order(plain, user, constraints=(*verified, *pair))],
    ) == ["health_deep.W406 shop_order.unique(user_id, email)"]
