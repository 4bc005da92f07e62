"""The schema-per-tenant rules that need no database: whose findings a host answers for, the
readiness share, reading schemas in turn, and the HEALTH_DEEP['TENANTS'] setting."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from health_deep import conf
from health_deep.findings import Finding
from health_deep.tenants import custom, scope
from health_deep.tenants.survey import Survey, representatives


def tenant_finding(fid: str, schemas: list[str], of: int = 4, alias: str = "default") -> Finding:
    return Finding(
        id=fid,
        alias=alias,
        object=f"tenant schema(s) {', '.join(schemas)}",
        message="...",
        details={"schemas": schemas, "broken": len(schemas), "tenants": of},
    )


SHARED = Finding(id="health_deep.E202", object="customers_client.name", message="...")


def test_a_tenant_host_answers_for_the_shared_schema_and_itself_only() -> None:
    t2 = tenant_finding("health_deep.E112", ["t2"])
    t3 = tenant_finding("health_deep.E225", ["t3", "t4"])

    seen = scope.seen_from([SHARED, t2, t3], "t3")

    assert seen == [SHARED, t3]


def test_the_shared_host_answers_for_every_tenant_with_the_same_list() -> None:
    findings = [SHARED, tenant_finding("health_deep.E112", ["t2"])]

    assert scope.seen_from(findings, None) is findings


def test_readiness_holds_while_no_more_than_the_share_of_tenants_is_broken() -> None:
    two_of_four = [
        tenant_finding("health_deep.E112", ["t2"]),
        tenant_finding("health_deep.E308", ["t2", "t3"]),  # t2 again: counted once
    ]
    three_of_four = [*two_of_four, tenant_finding("health_deep.E225", ["t4"])]

    assert scope.only_some_tenants(two_of_four, share=0.5)
    assert not scope.only_some_tenants(three_of_four, share=0.5)
    assert not scope.only_some_tenants(two_of_four, share=0)


def test_readiness_fails_on_any_critical_finding_of_the_shared_schema() -> None:
    findings = [tenant_finding("health_deep.E112", ["t2"], of=100), SHARED]

    assert not scope.only_some_tenants(findings, share=0.5)


def test_slices_cover_every_schema_in_turn() -> None:
    survey = Survey()
    names = [f"t{n}" for n in range(10)]

    seen = [survey.next_slice(names, 4) for _ in range(3)]

    assert seen[0] == ["t0", "t1", "t2", "t3"]
    assert sorted({s for part in seen for s in part}) == sorted(names)
    assert survey.next_slice(names, 20) == names


def test_schemas_in_one_state_share_one_verdict() -> None:
    survey = Survey()
    survey.read({"t1": ("", "a"), "t2": ("", "a"), "t3": ("", "b")})

    waiting = survey.waiting()
    chosen = representatives(survey, waiting, limit=1)
    survey.judged(("", "a"), [])

    assert waiting == [("", "a"), ("", "b")]
    assert chosen == {"t1": ("", "a")}
    assert survey.groups() == [(("", "a"), ["t1", "t2"])]
    assert survey.unknown(["t1", "t2", "t3", "t4"]) == ["t3", "t4"]


def test_a_tenant_that_is_gone_is_forgotten() -> None:
    survey = Survey()
    survey.read({"t1": ("", "a"), "t2": ("", "a")})
    survey.judged(("", "a"), [])

    survey.keep_only(["t1"])

    assert survey.groups() == [(("", "a"), ["t1"])]


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("notes", "must be a dict"),
        ({"SCHEMAS": "x.y"}, "'APPS'] must be a non-empty list"),
        ({"APPS": ["notes"]}, "needs one of 'SCHEMAS'"),
        ({"APPS": ["notes"], "SCHEMAS": "x.y", "SCHEMAS_SQL": "SELECT 1"}, "needs one of"),
        ({"APPS": ["notes"], "SCHEMAS_SQL": "DELETE FROM t"}, "must be a SELECT"),
        ({"APPS": ["notes"], "SCHEMAS": 3}, "must be a callable"),
        ({"APPS": ["notes"], "SCHEMAS": "x.y", "SHARED": []}, "['SHARED'] is not a known key"),
    ],
)
def test_a_broken_tenants_setting_is_named(value: object, says: str) -> None:
    with override_settings(HEALTH_DEEP={"TENANTS": value}):
        problems = conf.problems()

    assert any(says in p for p in problems), problems
    assert conf.get().tenants is None  # a broken value is never acted on


def test_a_tenants_setting_naming_what_the_site_lacks_fails_the_system_check() -> None:
    value = {"APPS": ["no_such_app"], "SCHEMAS": "no.such.callable"}

    with override_settings(HEALTH_DEEP={"TENANTS": value}):
        problems = custom.unresolved(value)
        with pytest.raises(SystemCheckError, match="no_such_app"):
            call_command("check", "--fail-level", "ERROR")

    assert any("not installed: no_such_app" in p for p in problems), problems
    assert any("'SCHEMAS'] cannot be imported" in p for p in problems), problems


@override_settings(
    HAS_MULTI_TYPE_TENANTS=True,
    MULTI_TYPE_DATABASE_FIELD="kind",
    TENANT_TYPES={
        "public": {"APPS": ["django.contrib.auth"], "URLCONF": "tests.urls"},
        "shop": {
            "APPS": ["tests.testapp", "django.contrib.contenttypes"],
            "URLCONF": "tests.urls_noisy",
            "BASE_SCHEMA": "shop_template",
        },
        "blog": {"APPS": ["tests.smokeapp"], "URLCONF": "tests.urls"},
    },
)
def test_django_tenants_types_are_kinds_of_schema_with_their_own_apps() -> None:
    from health_deep.tenants import django_tenants

    tenancy = django_tenants.detect()

    assert tenancy is not None
    assert tenancy.shared == {"auth"}
    kinds = {k.name: k for k in tenancy.kinds}
    assert set(kinds) == {"shop", "blog"}
    assert kinds["shop"].apps == {"testapp", "contenttypes"}
    assert kinds["shop"].urlconf == "tests.urls_noisy"
    assert kinds["shop"].fixed == ("shop_template",)  # the template is judged as a tenant
    assert kinds["blog"].fixed == ()
    assert tenancy.tenant_only("testapp", tenancy.alias)
    assert not tenancy.tenant_only("auth", tenancy.alias)
