"""A django-tenants site with tenant types (``TENANT_TYPES``) on a real PostgreSQL: each
tenant's schema is judged against its own type's apps. ``migrate_schemas`` records every
app's migrations in every schema (the router only skips the operations), so a blog tenant's
``django_migrations`` names ledger migrations whose tables it rightly never has."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.settings import BACKEND
from tests.tenancy.helpers import by_id, check, database, get, gunicorn, psql, until

pytestmark = [
    pytest.mark.subprocess,
    pytest.mark.skipif(BACKEND != "postgres", reason="django-tenants is PostgreSQL-only"),
]


@pytest.fixture
def site() -> Iterator[dict[str, str]]:
    with database(
        "tests.settings_tenants_types",
        ["-m", "django", "migrate_schemas", "--shared", "-v0"],
        ["-m", "tests.tenancy.make_typed"],
    ) as env:
        yield env


def test_each_tenant_is_judged_by_its_types_apps(site: dict) -> None:
    healthy, quiet = check(site)
    psql(
        site["HEALTH_DEEP_TENANTS_DB"],
        # a shop behind by a ledger migration; a blog's ledger rows gone (it has no ledger)
        "DELETE FROM s2.django_migrations "
        "WHERE app = 'ledger' AND name = '0003_alter_entry19_when'",
        "DELETE FROM b1.django_migrations WHERE app = 'ledger'",
        "ALTER TABLE b2.notes_note DROP COLUMN body",
    )

    code, findings = check(site)

    assert healthy == 0 and by_id(quiet) == {}, quiet
    [coverage] = [f for f in quiet if f["id"] == "health_deep.I305"]
    assert coverage["details"]["tenant_schemas"]["ran"] == 4
    assert code == 1
    found = by_id(findings)
    assert set(found) == {"health_deep.E112", "health_deep.E225", "health_deep.E308"}, found
    assert found["health_deep.E112"]["details"]["schemas"] == ["s2"]
    assert found["health_deep.E112"]["details"]["unapplied"] == ["ledger.0003_alter_entry19_when"]
    assert found["health_deep.E225"]["details"]["schemas"] == ["b2"]
    assert found["health_deep.E308"]["details"]["schemas"] == ["b2"]


def test_a_table_of_a_shops_app_dropped_is_named_and_each_host_answers_for_its_own(
    site: dict,
) -> None:
    psql(site["HEALTH_DEEP_TENANTS_DB"], "DROP TABLE s1.ledger_entry19")

    code, findings = check(site)
    with gunicorn(site) as port:
        until(port, "public.localhost", lambda body: "E225" in body)
        served = {host: get(port, "/health/", f"{host}.localhost")[0] for host in ("s1", "b1")}

    assert code == 1
    found = by_id(findings)
    assert list(found) == ["health_deep.E225"], found
    assert found["health_deep.E225"]["details"]["schemas"] == ["s1"]
    [missing] = found["health_deep.E225"]["details"]["findings"]
    assert (missing["id"], missing["object"]) == ("health_deep.E201", "ledger_entry19")
    assert served == {"s1": 503, "b1": 200}
