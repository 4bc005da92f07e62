"""The endpoints, wired for real: a migrated test database broken with real SQL."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

TOKEN = "a-long-enough-health-token"


def forget(app: str, name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = %s AND name = %s", [app, name])


def record(app: str, name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, CURRENT_TIMESTAMP)",
            [app, name],
        )


def test_migrated_database_answers_200_pass(client: Client) -> None:
    response = client.get("/health/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response.json()["status"] == "pass"
    assert response["Cache-Control"].startswith("max-age=0")
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("url", ["/health/", "/health/ready/"])
def test_E101_unapplied_migration_answers_503(
    client: Client, url: str, restore_django_migrations: None
) -> None:
    forget("testapp", "0002_tidy_names")

    response = client.get(url, HTTP_ACCEPT="application/json")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["Migrations(alias='default')"]["output"] == (
        "Unavailable: health_deep.E101"
    )


def test_anonymous_caller_sees_ids_but_no_object_names(
    client: Client, restore_django_migrations: None
) -> None:
    forget("testapp", "0002_tidy_names")

    for accept in ("application/json", "text/plain", "text/html"):
        response = client.get("/health/", HTTP_ACCEPT=accept)
        assert response.status_code == 503
        assert b"health_deep.E101" in response.content
        assert b"tidy_names" not in response.content
        assert b"testapp" not in response.content


@override_settings(HEALTH_DEEP={"TOKEN": TOKEN})
def test_token_caller_sees_the_findings(client: Client, restore_django_migrations: None) -> None:
    forget("testapp", "0002_tidy_names")

    response = client.get("/health/", HTTP_ACCEPT="application/json", HTTP_X_HEALTH_TOKEN=TOKEN)

    findings = response.json()["checks"]["Migrations(alias='default')"]["findings"]
    assert [(f["id"], f["object"]) for f in findings if f["severity"] != "info"] == [
        ("health_deep.E101", "testapp.0002_tidy_names")
    ]
    assert "migrate" in findings[0]["hint"]


@override_settings(HEALTH_DEEP={"TOKEN": TOKEN})
@pytest.mark.parametrize("token", ["", "x", TOKEN[:-1], TOKEN + "x", "é" * 40, "A" * 10000])
def test_wrong_tokens_see_nothing(
    client: Client, restore_django_migrations: None, token: str
) -> None:
    forget("testapp", "0002_tidy_names")

    response = client.get("/health/", HTTP_ACCEPT="application/json", HTTP_X_HEALTH_TOKEN=token)

    assert response.status_code == 503
    assert "findings" not in response.json()["checks"]["Migrations(alias='default')"]


def test_staff_user_sees_the_findings(client: Client, restore_django_migrations: None) -> None:
    user = get_user_model().objects.create_user("ops", password="pw", is_staff=True)
    client.force_login(user)
    forget("testapp", "0002_tidy_names")

    response = client.get("/health/", HTTP_ACCEPT="text/plain")

    assert b"testapp.0002_tidy_names" in response.content


def test_W102_unknown_migration_answers_200_with_warn(
    client: Client, restore_django_migrations: None
) -> None:
    record("testapp", "0099_from_a_newer_release")

    response = client.get("/health/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "warn"
    assert body["checks"]["Migrations(alias='default')"]["status"] == "warn"


def test_live_runs_no_query(client: Client) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/health/live/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response.json() == {"status": "pass", "checks": {}}
    assert len(queries) == 0


@pytest.mark.parametrize("accept", ["garbage;;q=x", "application/xml", "*/*;q=0", "\x00\xff"])
def test_odd_accept_headers_still_get_a_status(
    client: Client, accept: str, restore_django_migrations: None
) -> None:
    forget("testapp", "0002_tidy_names")

    response = client.get("/health/", HTTP_ACCEPT=accept)

    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("json", "application/json"),
        ("text", "text/plain"),
        ("openmetrics", "application/openmetrics-text"),
        ("atom", "application/atom+xml"),
        ("html", "text/html"),
    ],
)
def test_formats_keep_django_health_check_negotiation(
    client: Client, fmt: str, content_type: str
) -> None:
    response = client.get(f"/health/?format={fmt}")

    assert response["Content-Type"].startswith(content_type)
    assert response.status_code == 200


def test_text_format_starts_with_the_overall_status(
    client: Client, restore_django_migrations: None
) -> None:
    forget("testapp", "0002_tidy_names")

    response = client.get("/health/?format=text")

    assert response.content.decode().splitlines()[0] == "status: fail"


def test_check_classes_plug_into_django_health_checks_own_view() -> None:
    from health_check.views import HealthCheckView

    import health_deep
    from health_deep.checks import Migrations

    view = HealthCheckView(checks=["health_deep.Migrations"])

    assert health_deep.Migrations is Migrations
    assert [type(c) for c in view.get_checks()] == [Migrations]


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (None, "text/plain"),  # load balancers
        ("*/*", "text/plain"),  # kubelet, curl
        (
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "text/html",
        ),  # browsers
    ],
)
def test_probes_get_plain_text_and_browsers_html(
    client: Client, accept: str | None, content_type: str
) -> None:
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}

    response = client.get("/health/", **headers)

    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)


def test_server_timing_says_how_long_the_answer_took_inside_the_server(client: Client) -> None:
    response = client.get("/health/ready/")

    name, _, duration = response["Server-Timing"].partition(";dur=")
    assert name == "health"
    assert 0 < float(duration) < 5000


@pytest.mark.django_db(transaction=True, databases="__all__")
@override_settings(
    CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}},
    HEALTH_DEEP={"EXTRA_CHECKS": ["health_check.Cache"]},
)
def test_the_sites_own_django_health_check_checks_run_in_health(client: Client) -> None:
    # A dummy cache stores nothing: django-health-check's Cache check fails on it.
    deep = client.get("/health/", HTTP_ACCEPT="application/json")
    ready = client.get("/health/ready/", HTTP_ACCEPT="application/json")

    assert deep.status_code == 503
    assert deep.json()["checks"]["Cache(alias='default')"]["status"] == "fail"
    assert ready.status_code == 200  # readiness is the database's business only


@override_settings(HEALTH_DEEP={"EXTRA_CHECKS": ["health_check.NoSuchCheck"]})
def test_an_extra_check_that_does_not_import_is_E001() -> None:
    from health_deep.system_checks import check_settings

    assert [m.id for m in check_settings()] == ["health_deep.E001"]


@override_settings(
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.auth.middleware.LoginRequiredMiddleware",
    ]
)
def test_probes_are_exempt_from_login_required_middleware(client: Client) -> None:
    for url in ("/health/live/", "/health/ready/", "/health/"):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("feed", ["atom", "rss"])
def test_feeds_carry_the_status_code_too(client: Client, feed: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'testapp' AND name = '0002_tidy_names'"
        )
    try:
        assert client.get(f"/health/?format={feed}").status_code == 503
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO django_migrations (app, name, applied) "
                "VALUES ('testapp', '0002_tidy_names', CURRENT_TIMESTAMP)"
            )


@pytest.mark.parametrize(
    "token",
    [" a-token-with-a-leading-space", "a-token-with-a-trailing-space ", "jeton-très-secret-1"],
)
def test_a_token_no_header_could_carry_is_E001(token: str) -> None:
    with override_settings(HEALTH_DEEP={"TOKEN": token}):
        from health_deep import conf

        assert any("TOKEN" in p for p in conf.problems())


@pytest.mark.parametrize(
    ("allowed", "remote"), [("10.1.2.3", "::ffff:10.1.2.3"), ("::ffff:10.1.2.3", "10.1.2.3")]
)
def test_ipv4_mapped_addresses_match_their_ipv4_address(
    client: Client, allowed: str, remote: str
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'testapp' AND name = '0002_tidy_names'"
        )
    try:
        with override_settings(HEALTH_DEEP={"DETAILS_IPS": [allowed]}):
            body = client.get("/health/", HTTP_ACCEPT="application/json", REMOTE_ADDR=remote)
        assert "findings" in body.json()["checks"]["Migrations(alias='default')"]
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO django_migrations (app, name, applied) "
                "VALUES ('testapp', '0002_tidy_names', CURRENT_TIMESTAMP)"
            )


def test_details_by_address_with_a_proxy_header_are_warned_about_once(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with override_settings(HEALTH_DEEP={"DETAILS_IPS": ["127.0.0.1"]}):
        for _ in range(3):
            client.get("/health/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1")
        client.get("/health/", REMOTE_ADDR="127.0.0.1")

    warned = [r for r in caplog.records if "forwarded-allow-ips" in r.getMessage()]
    assert len(warned) == 1


def test_details_by_address_without_a_proxy_header_are_not_warned_about(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with override_settings(HEALTH_DEEP={"DETAILS_IPS": ["127.0.0.1"]}):
        client.get("/health/", REMOTE_ADDR="127.0.0.1")

    assert not [r for r in caplog.records if "forwarded-allow-ips" in r.getMessage()]
