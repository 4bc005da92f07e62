"""A django-pgschemas site on a real PostgreSQL: a static tenant ``www`` with the ``ledger``
app and its own URLconf, dynamic tenants with ``notes``. Each kind of schema is judged
against its own apps and its own URLconf's endpoints; a dynamic tenant's host answers for
that tenant, the static tenant's (the site's own) for the whole site."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest

from tests.settings import BACKEND
from tests.tenancy.helpers import by_id, check, database, get, gunicorn, psql, until

pytestmark = [
    pytest.mark.subprocess,
    pytest.mark.skipif(BACKEND != "postgres", reason="django-pgschemas is PostgreSQL-only"),
    # Looked for, never imported here: importing it connects its signal receivers to every
    # model of this process (the other tests' site has no TENANTS setting).
    pytest.mark.skipif(
        importlib.util.find_spec("django_pgschemas") is None,
        reason="django-pgschemas 1.x runs on Django below 6 only (the Python 3.11 cell)",
    ),
]

TENANTS = 3


@pytest.fixture
def site() -> Iterator[dict[str, str]]:
    with database(
        "tests.settings_pgschemas",
        ["-m", "django", "migrate", "--noinput", "-v0"],  # public and www
        ["-m", "tests.pgtenancy.make_tenants", str(TENANTS)],
    ) as env:
        yield env


def test_a_healthy_pgschemas_site_passes_with_each_kind_smoke_tested(site: dict) -> None:
    code, findings = check(site)

    assert code == 0, findings
    assert by_id(findings) == {}
    [coverage] = [f for f in findings if f["id"] == "health_deep.I305"]
    # www's /entries/ (its own URLconf) and the dynamic tenants' /notes/
    assert coverage["details"]["tenant_schemas"] == {
        "ran": TENANTS + 1,
        "of": TENANTS + 1,
        "queries": 2,
    }


def test_each_kind_of_tenant_schema_is_judged_against_its_own_apps(site: dict) -> None:
    psql(
        site["HEALTH_DEEP_TENANTS_DB"],
        "ALTER TABLE www.ledger_entry1 DROP COLUMN amount",  # the static tenant's app
        "ALTER TABLE t2.notes_note DROP COLUMN body",  # a dynamic tenant's
        "DELETE FROM t3.django_migrations WHERE app = 'notes'",
    )

    code, findings = check(site)

    assert code == 1
    found = [f for f in findings if f["severity"] != "info"]
    named = sorted((f["id"], tuple(f["details"]["schemas"])) for f in found)
    assert named == [
        ("health_deep.E112", ("t3",)),
        ("health_deep.E225", ("t2",)),
        ("health_deep.E225", ("www",)),
        ("health_deep.E308", ("t2",)),
        ("health_deep.E308", ("www",)),
    ], found
    [www] = [
        f for f in found if f["id"] == "health_deep.E308" and f["details"]["schemas"] == ["www"]
    ]
    assert www["endpoints"] == ["/entries/ (entries)"]
    assert www["details"]["domains"] == {"www": "main.localhost"}


def test_a_dynamic_tenant_host_answers_for_itself_and_the_static_one_for_the_site(
    site: dict,
) -> None:
    psql(site["HEALTH_DEEP_TENANTS_DB"], "ALTER TABLE t2.notes_note DROP COLUMN body")

    with gunicorn(site) as port:
        until(port, "main.localhost", lambda body: "E308" in body)
        www = get(port, "/health/", "main.localhost")
        t1, t2 = (get(port, "/health/", f"t{n}.localhost") for n in (1, 2))
        ready = get(port, "/health/ready/", "main.localhost")

    assert www[0] == 503 and "E225" in www[1]
    assert t2[0] == 503 and "E225" in t2[1]
    assert t1[0] == 200, t1
    assert ready[0] == 200  # 1 of 4 tenant schemas
