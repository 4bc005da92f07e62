"""The data preflight's counting, in process on the test database of each backend."""

from __future__ import annotations

import pytest
from django.db import migrations, models

from health_deep.rollout.preflight import CAP, Question, ask
from health_deep.rollout.releases import Step
from tests.testapp.models import Integration

STEP = Step(
    ("testapp", "0003_next"), 1, migrations.AlterField("integration", "name", models.TextField())
)


def question(kind: str, *fields: str, max_length: int | None = None) -> Question:
    return Question(STEP, Integration, kind, fields, max_length)


@pytest.mark.django_db
def test_E409_counts_the_rows_beyond_the_first_of_each_duplicate_group() -> None:
    for name in ["a", "a", "a", "b", "b", "c"]:
        Integration.objects.create(name=name, base_url="https://example.com")

    [finding] = ask("default", [question("unique", "name")], budget=5)

    assert finding.id == "health_deep.E409"
    assert finding.details["rows"] == 3


@pytest.mark.django_db
def test_counts_stop_past_the_cap_and_say_more_than() -> None:
    Integration.objects.bulk_create(
        Integration(name=f"n{i}", base_url="https://example.com") for i in range(CAP + 5)
    )

    [finding] = ask("default", [question("rows", "name")], budget=5)

    assert finding.details["rows"] == CAP + 1 and finding.details["capped"]
    assert f"more than {CAP}" in finding.message


@pytest.mark.django_db
def test_a_count_the_orm_cannot_make_is_unknown_not_zero() -> None:
    Integration.objects.create(name="a", base_url="https://example.com")

    [finding] = ask("default", [question("null", "no_such_field")], budget=5)

    assert finding.id == "health_deep.W410"
    assert finding.details["rows"] is None
    assert "FieldError" in finding.message


@pytest.mark.django_db
def test_no_rows_no_finding() -> None:
    assert ask("default", [question("unique", "name"), question("rows", "name")], budget=5) == []
