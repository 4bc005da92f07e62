"""Acknowledged warnings: shown as info, with what they were, never hidden; never criticals."""

from __future__ import annotations

import pytest
from django.test.utils import override_settings

from health_deep import acknowledge, runner
from health_deep.findings import Finding
from health_deep.system_checks import check_settings


def w106(app: str) -> Finding:
    return Finding(id="health_deep.W106", object=app, message=f"Models in '{app}' changed.")


def test_an_acknowledged_warning_is_info_with_its_own_id_kept() -> None:
    found = acknowledge.apply(
        [w106("pretixbase"), w106("mine")], {"health_deep.W106": ["pretixbase"]}
    )

    assert [(f.id, f.object) for f in found] == [
        ("health_deep.I006", "pretixbase"),
        ("health_deep.W106", "mine"),  # the site's own warning still stands out
    ]
    assert found[0].details["acknowledged"] == "health_deep.W106"
    assert "Models in 'pretixbase' changed." in found[0].message


def test_a_star_acknowledges_every_object_of_that_id() -> None:
    found = acknowledge.apply([w106("a"), w106("b")], {"health_deep.W106": ["*"]})

    assert {f.id for f in found} == {"health_deep.I006"}


@pytest.mark.parametrize(
    ("rules", "word"),
    [
        ({"health_deep.E101": ["*"]}, "not a warning"),
        ({"health_deep.W999": ["*"]}, "no finding id"),
        ({"health_deep.W106": "pretixbase"}, "list of objects"),
        (["health_deep.W106"], "must be a dict"),
    ],
)
def test_E001_what_cannot_be_acknowledged(rules: object, word: str) -> None:
    with override_settings(HEALTH_DEEP={"ACKNOWLEDGE": rules}):
        messages = check_settings()

    assert [m.id for m in messages] == ["health_deep.E001"]
    assert acknowledge.problems(rules) and word in " ".join(acknowledge.problems(rules))


@pytest.mark.django_db
def test_the_W106_of_a_third_party_app_is_acknowledged_where_the_checks_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from health_deep.history import graph

    monkeypatch.setattr(
        graph, "missing_migrations", lambda: {"vendored": ["Add field x"], "mine": ["Add field y"]}
    )
    with override_settings(HEALTH_DEEP={"ACKNOWLEDGE": {"health_deep.W106": ["vendored"]}}):
        found = runner.code_findings()

    assert sorted((f.id, f.object) for f in found) == [
        ("health_deep.I006", "vendored"),
        ("health_deep.W106", "mine"),
    ]
