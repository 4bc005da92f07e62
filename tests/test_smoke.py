"""Per-endpoint smoke queries against a real database: real rows, real SQL mutations."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from django.test import Client
from django.test.utils import override_settings

from health_deep import runner
from health_deep.findings import Finding, Severity
from tests.smokeapp.models import Author, Book, Publisher
from tests.test_schema_drift import MY, PG, SQLITE, modify, rebuild, sql

only_pg = pytest.mark.skipif(not PG, reason="PostgreSQL-only")
only_sqlite = pytest.mark.skipif(not SQLITE, reason="SQLite-only")

BOOK_ENDPOINTS = {"library:books", "library:book"}
PUBLISHER_JOINS = {"library:published", "library:book-list", "library:book-detail"}


def names(finding: Finding) -> set[str]:
    return {label.split(" (")[1].rstrip(")") for label in finding.endpoints if " (" in label}


def smoke() -> list[Finding]:
    return [f for f in runner.smoke_findings() if f.id not in ("health_deep.I305",)]


@pytest.fixture
def library() -> None:
    author = Author.objects.create(name="Le Guin")
    publisher = Publisher.objects.create(name="Ace", country="US")
    Book.objects.create(title="The Dispossessed", author=author, publisher=publisher)


# -- discovery -------------------------------------------------------------------------------


def by_name() -> dict[str | None, object]:
    return {e.name: e for e in runner.smoke_endpoints()}


def test_discovery_covers_generic_views_drf_and_registered_ones() -> None:
    endpoints = by_name()

    covered = {name for name, e in endpoints.items() if e.query is not None}  # type: ignore[attr-defined]
    assert covered == {
        "library:books",
        "library:book",
        "library:published",
        "library:author-stats",
        "library:shelf:inner:authors",
        "library:book-list",
        "library:book-detail",
    }


def test_discovery_follows_nested_includes_and_namespaces() -> None:
    endpoint = by_name()["library:shelf:inner:authors"]

    assert endpoint.route == "/library/shelf/deep/authors/"  # type: ignore[attr-defined]
    assert endpoint.source == "model"  # type: ignore[attr-defined]


def test_views_needing_the_request_are_reported_not_covered_with_why() -> None:
    endpoints = by_name()

    assert "get_queryset()" in endpoints["library:mine"].reason  # type: ignore[attr-defined]
    assert "get_queryset()" in endpoints["library:my-authors"].reason  # type: ignore[attr-defined]
    assert "function view" in endpoints["library:ping"].reason  # type: ignore[attr-defined]
    assert endpoints["library:about"].reason == "no queryset or model"  # type: ignore[attr-defined]


def test_admin_and_health_endpoints_are_not_counted() -> None:
    views = {e.view for e in runner.smoke_endpoints()}

    assert not any(v.startswith(("django.contrib.admin", "health_deep")) for v in views)


def test_endpoints_sharing_a_query_run_it_once() -> None:
    plan = runner.smoke_plan()

    groups = [{e.name for e in q.endpoints} for q in plan]
    assert BOOK_ENDPOINTS in groups
    assert len(plan) == 5


@pytest.mark.django_db
def test_coverage_is_reported_as_info() -> None:
    coverage = next(f for f in runner.smoke_findings() if f.id == "health_deep.I305")

    assert coverage.message.startswith("9 of 19 endpoint(s) covered by 5 smoke query(ies);")
    reasons = {d["endpoint"]: d["reason"] for d in coverage.details["not_covered"]}
    assert "/library/ping/ (library:ping)" in reasons


def test_discovery_works_without_django_rest_framework() -> None:
    script = (
        "import sys; sys.modules['rest_framework'] = None\n"
        "import django; from django.conf import settings\n"
        "settings.configure(ROOT_URLCONF=__name__, INSTALLED_APPS=['django.contrib.contenttypes',"
        " 'django.contrib.auth'])\n"
        "django.setup()\n"
        "from django.contrib.auth.models import Group\n"
        "from django.urls import path\n"
        "from django.views.generic import ListView\n"
        "urlpatterns = [path('groups/', ListView.as_view(model=Group), name='groups')]\n"
        "from health_deep.smoke.discovery import discover\n"
        "print([(e.route, e.source) for e in discover()])\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert "('/groups/', 'model')" in result.stdout


# -- execution -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_clean_database_with_real_rows_passes(library: None) -> None:
    assert smoke() == []


@pytest.mark.django_db
def test_E301_dropped_joined_column_names_exactly_the_endpoints_that_join_it(library: None) -> None:
    sql('ALTER TABLE "smokeapp_publisher" DROP COLUMN "country"')

    failures = smoke()

    assert [f.id for f in failures] == ["health_deep.E301"] * 2
    assert set().union(*(names(f) for f in failures)) == PUBLISHER_JOINS
    assert all(not names(f) & BOOK_ENDPOINTS for f in failures)
    assert failures[0].details["sql"].startswith("SELECT")


@pytest.mark.django_db
def test_E301_only_with_data_a_changed_type_fails_when_a_row_exists() -> None:
    if PG:
        sql('ALTER TABLE "smokeapp_book" ALTER COLUMN "priority" TYPE varchar(10)')
    elif MY:
        modify("smokeapp_book", "priority", "varchar(10)")
    else:
        rebuild("smokeapp_book", r'"priority" integer NOT NULL', '"priority" varchar(10) NOT NULL')
    assert smoke() == []  # empty tables: dev and staging looked fine

    author = Author.objects.create(name="A")
    sql(
        "INSERT INTO smokeapp_book (title, author_id, priority) "
        f"VALUES ('t', {author.pk}, 'urgent')"
    )
    failures = smoke()

    assert {f.id for f in failures} == {"health_deep.E301"}
    assert all(f.details["error"] == "ValueError" for f in failures)
    assert BOOK_ENDPOINTS in [names(f) for f in failures]


# Transactional: MySQL can only make the probe's transaction read-only when it is the
# outermost one, as it is when serving (not inside a test's transaction).
@pytest.mark.django_db(transaction=True)
def test_E304_a_registered_callable_that_writes_is_refused_and_writes_nothing() -> None:
    def sneaky() -> object:
        return Author.objects.create(name="written by a probe")

    with override_settings(HEALTH_DEEP={"SMOKE_QUERIES": {"library:writes": sneaky}}):
        failures = smoke()

    assert [f.id for f in failures] == ["health_deep.E304"]
    assert names(failures[0]) == {"library:writes"}
    assert Author.objects.count() == 0


@only_pg
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_E302_a_locked_table_ends_within_the_deadline() -> None:
    from tests.locks import access_exclusive

    with (
        access_exclusive("smokeapp_publisher"),
        override_settings(HEALTH_DEEP={"SMOKE_DEADLINE": 1.0, "STATEMENT_TIMEOUT": 0.3}),
    ):
        started = time.monotonic()
        findings = runner.smoke_findings()
        elapsed = time.monotonic() - started

    assert "health_deep.E302" in {f.id for f in findings}
    timed_out = next(f for f in findings if f.id == "health_deep.E302")
    assert names(timed_out) & PUBLISHER_JOINS
    assert elapsed < 1.5


@only_sqlite
@pytest.mark.django_db
def test_E302_a_slow_sqlite_query_is_interrupted_at_the_deadline() -> None:
    from django.db.models.expressions import RawSQL

    def slow() -> object:
        spin = (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 100000000) SELECT count(*) FROM n"
        )
        return Author.objects.annotate(spin=RawSQL(spin, []))

    Author.objects.create(name="A")
    with override_settings(
        HEALTH_DEEP={"SMOKE_QUERIES": {"library:writes": slow}, "STATEMENT_TIMEOUT": 0.3}
    ):
        started = time.monotonic()
        failures = smoke()
        elapsed = time.monotonic() - started

    assert [f.id for f in failures] == ["health_deep.E302"]
    assert elapsed < 1.0


@pytest.mark.django_db
def test_queries_left_out_by_the_deadline_are_reported_and_run_first_next_time(
    library: None,
) -> None:
    from health_deep.smoke import execution

    plan = runner.smoke_plan()
    first = execution.run(plan, deadline=0.000001, timeout=0.5)
    second = execution.run(plan, deadline=5, timeout=0.5)

    assert first.ran <= 1 and first.skipped
    assert second.ran == len(plan) and not second.findings


# -- wired -----------------------------------------------------------------------------------


@pytest.fixture
def renamed_country() -> Iterator[None]:
    sql('ALTER TABLE "smokeapp_publisher" RENAME COLUMN "country" TO "country_gone"')
    yield
    sql('ALTER TABLE "smokeapp_publisher" RENAME COLUMN "country_gone" TO "country"')


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_health_answers_503_naming_endpoints_only_to_authorised_callers(
    client: Client, renamed_country: None
) -> None:
    token = "a-long-enough-health-token"
    with override_settings(HEALTH_DEEP={"TOKEN": token}):
        anonymous = client.get("/health/", HTTP_ACCEPT="application/json")
        authorised = client.get(
            "/health/", HTTP_ACCEPT="application/json", HTTP_X_HEALTH_TOKEN=token
        )

    assert anonymous.status_code == 503
    smoke_check = anonymous.json()["checks"]["SmokeQueries()"]
    assert smoke_check["output"].startswith("Unavailable: health_deep.E301")
    assert "library" not in anonymous.content.decode()
    findings = authorised.json()["checks"]["SmokeQueries()"]["findings"]
    failed = [f for f in findings if f["id"] == "health_deep.E301"]
    assert {e for f in failed for e in f["endpoints"]} >= {
        "/library/published/ (library:published)"
    }


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"nope:missing": "tests.smokeapp.views.ping"}, "does not have"),
        ({"library:ping": "tests.smokeapp.views.no_such_thing"}, "cannot import"),
        ({"library:ping": 42}, "is not callable"),
        ("not a dict", "must be a dict"),
    ],
)
def test_E307_bad_registrations_are_system_check_errors(setting: object, message: str) -> None:
    from health_deep.system_checks import check_smoke_registrations

    with override_settings(HEALTH_DEEP={"SMOKE_QUERIES": setting}):
        errors = check_smoke_registrations()

    assert [e.id for e in errors] == ["health_deep.E307"]
    assert message in errors[0].msg


@pytest.mark.django_db
def test_a_site_without_endpoints_reports_nothing(settings: object) -> None:
    settings.ROOT_URLCONF = "tests.urls_health_only"  # type: ignore[attr-defined]

    assert runner.smoke_findings() == []


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.urls_overridden")
def test_an_overridden_get_queryset_is_never_counted_as_covered(library: None) -> None:
    assert Client(raise_request_exception=False).get("/notes/").status_code == 500  # really broken

    endpoints = by_name()
    coverage = next(f for f in runner.smoke_findings() if f.id == "health_deep.I305")

    assert {e.source for e in endpoints.values()} == {"base queryset"}  # type: ignore[attr-defined]
    assert not any(e.covered for e in endpoints.values())  # type: ignore[attr-defined]
    assert coverage.message.startswith(
        "0 of 2 endpoint(s) covered by 1 smoke query(ies); 2 only by their base queryset"
    )
    assert coverage.details["covered"] == []


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.urls_scoped")
def test_a_manager_that_needs_a_scope_leaves_its_endpoint_uncovered_not_the_site(
    library: None,
) -> None:
    findings = runner.smoke_findings()

    assert [f.id for f in findings if f.severity > Severity.INFO] == []
    coverage = next(f for f in findings if f.id == "health_deep.I305")
    assert coverage.details["covered"] == ["/books/ (books)"]
    [scoped] = coverage.details["not_covered"]
    assert scoped["endpoint"] == "/events/ (events)"
    assert "ScopeError" in scoped["reason"]


# -- multi-tenant managers (django-scopes itself) ---------------------------------------------


@pytest.fixture
def tickets() -> None:
    from django_scopes import scope

    from tests.scopesapp.models import Ticket

    with scope(organizer="acme"):
        Ticket.objects.create(organizer="acme", code="A1")


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.urls_django_scopes")
def test_a_django_scopes_endpoint_is_covered_and_its_query_really_runs(tickets: None) -> None:
    from django_scopes.exceptions import ScopeError

    from tests.scopesapp.models import Ticket

    with pytest.raises(ScopeError):  # outside a scope the manager refuses: a real ScopedManager
        list(Ticket.objects.all())
    findings = runner.smoke_findings()
    coverage = next(f for f in findings if f.id == "health_deep.I305")
    assert [f.id for f in findings if f.severity > Severity.INFO] == []
    assert coverage.details["covered"] == ["/tickets/ (tickets)"]

    sql('ALTER TABLE "scopesapp_ticket" DROP COLUMN "code"')
    with override_settings(HEALTH_DEEP={"SMOKE_DEADLINE": 1.0}):  # a fresh plan, same site
        [failure] = smoke()

    assert failure.id == "health_deep.E301"  # read across the scope, inside the guard
    assert names(failure) == {"tickets"}


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.urls_slow_to_plan", HEALTH_DEEP={"SMOKE_DEADLINE": 0.2})
def test_the_command_gives_the_queries_the_whole_deadline_however_long_planning_took(
    tickets: None,
) -> None:
    findings = runner.smoke_findings()  # as the command and the system checks call it

    assert [f.id for f in findings if f.id != "health_deep.I305"] == []  # no I306: all ran


def test_an_entry_that_is_not_a_url_pattern_is_left_out_not_fatal() -> None:
    from django.urls import path

    from health_deep.smoke.discovery import _walk
    from tests.smokeapp import views

    # What `include("two_factor.urls")` gives: the module's (patterns, app_name) tuple.
    patterns = [([path("ping/", views.ping, name="ping")], "ns"), path("p/", views.ping)]

    found = [route for route, *_ in _walk(patterns, "/", None)]

    assert found == ["/p/"]
