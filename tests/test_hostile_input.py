"""Bad input never becomes a 500 or a leak: hostile query strings, Accept headers and tokens,
malformed settings, and probes by IP with a Host that is not in ALLOWED_HOSTS.

The database is broken first (an applied migration forgotten: E101), so there are details
that a leak would show.
"""

from __future__ import annotations

import io
import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.test.utils import override_settings

from tests.test_views import forget

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

TOKEN = "a-long-enough-health-token"
SECRETS = (b"tidy_names", b"testapp", b"django_migrations", b"Traceback")

QUERIES = [
    "format=json",
    "format=../../etc/passwd",
    "format=" + "x" * 8000,
    "format=%00",
    "format=json&format=html",
    "format=openmetrics&details=1",
    "token=" + TOKEN,
    "%ff%fe=%c0%af",
    "a" * 4000,
    "format[]=json",
    "format=<script>alert(1)</script>",
]
ACCEPTS = [
    "",
    "*/*",
    "application/json;q=abc",
    "text/html;q=2, application/json;q=0",
    "application/health+json",
    "a/" + "b" * 8000,
    "text/*;level=1;;;",
    "\x00\x01",
    ", , ,",
    "application/json, " * 500,
]
TOKENS = (
    [""]
    + ["t" * n for n in (1, 15, 16, 25, 26, 27, 64, 256, 4096)]
    + [TOKEN[:-1], TOKEN + " ", " " + TOKEN, TOKEN.upper(), "Bearer " + TOKEN, "é" * 26]
)


@pytest.fixture
def broken(restore_django_migrations: None) -> None:
    forget("testapp", "0002_tidy_names")


def assert_safe(response: object) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    assert status in (200, 503), status
    body = response.content  # type: ignore[attr-defined]
    for secret in SECRETS:
        assert secret not in body, (secret, body[:300])


@override_settings(HEALTH_DEEP={"TOKEN": TOKEN})
def test_hostile_query_strings_and_accept_headers(client: Client, broken: None) -> None:
    for query, accept in itertools.product(QUERIES, ACCEPTS):
        response = client.get(f"/health/?{query}", HTTP_ACCEPT=accept)
        assert_safe(response)
        # Metrics scrapers read the status from the gauges: openmetrics is always 200.
        metrics = query.startswith("format=openmetrics")
        assert response.status_code == (200 if metrics else 503), (query, accept)


@override_settings(HEALTH_DEEP={"TOKEN": TOKEN})
def test_tokens_of_every_length_see_nothing(client: Client, broken: None) -> None:
    for token in TOKENS:
        for header in ("HTTP_X_HEALTH_TOKEN", "HTTP_AUTHORIZATION"):
            value = token if header == "HTTP_X_HEALTH_TOKEN" else f"Bearer {token}x"
            assert_safe(client.get("/health/", HTTP_ACCEPT="application/json", **{header: value}))
    right = client.get("/health/", HTTP_ACCEPT="application/json", HTTP_X_HEALTH_TOKEN=TOKEN)
    assert b"tidy_names" in right.content  # the control: the right token does see them


BAD_SETTINGS = [
    ({"STATEMENT_TIMEOUT": -1}, "STATEMENT_TIMEOUT"),
    ({"SMOKE_DEADLINE": "fast"}, "SMOKE_DEADLINE"),
    ({"DEADLINE": 0}, "DEADLINE"),
    ({"CACHE_TTL": -5}, "CACHE_TTL"),
    ({"CACHE_TTL": float("nan")}, "CACHE_TTL"),
    ({"DATABASES": "default"}, "DATABASES"),
    ({"IGNORE_APPS": "testapp"}, "IGNORE_APPS"),
    ({"TOKEN": 12345678901234567890}, "TOKEN"),
    ({"DETAILS": True}, "DETAILS"),
    ({"DETAILS_IPS": ["not an ip"]}, "DETAILS_IPS"),
    ({"CACHE_ALIAS": "no-such-cache"}, "CACHE_ALIAS"),
    ({"SMOKE_QUERIES": {"library:list": "no.such.module.rows"}}, "SMOKE_QUERIES"),  # E307
    ({"SMOKE_QUERIES": ["not", "a", "dict"]}, "SMOKE_QUERIES"),  # E307
    ({"SMOKE_EXCLUDE": 3}, "SMOKE_EXCLUDE"),
    ({"STATMENT_TIMEOUT": 1}, "STATMENT_TIMEOUT"),  # a typo is an unknown key
    ("not a dict", "HEALTH_DEEP"),
]


@pytest.mark.parametrize(("setting", "key"), BAD_SETTINGS)
def test_malformed_setting_is_a_check_error_and_never_a_500(
    client: Client, setting: object, key: str, broken: None
) -> None:
    with override_settings(HEALTH_DEEP=setting):
        response = client.get("/health/", HTTP_ACCEPT="application/json")
        with pytest.raises(SystemCheckError) as excinfo:
            call_command("check", stdout=io.StringIO(), stderr=io.StringIO())

    assert_safe(response)
    assert response.status_code == 503  # the checks still ran, on the defaults
    fid = "health_deep.E307" if key == "SMOKE_QUERIES" else "health_deep.E001"
    assert fid in str(excinfo.value)
    assert key in str(excinfo.value)


def test_probe_by_ip_gets_djangos_400_without_the_middleware(client: Client) -> None:
    response = client.get("/health/", HTTP_HOST="10.1.2.3")

    assert response.status_code == 400
    assert b"health_deep" not in response.content


@override_settings(
    MIDDLEWARE=[
        "health_deep.middleware.ProbeHostMiddleware",
        "django.middleware.common.CommonMiddleware",
    ]
)
def test_probe_host_middleware_answers_health_urls_by_ip_and_nothing_else(
    client: Client, broken: None
) -> None:
    health = client.get("/health/", HTTP_HOST="10.1.2.3", HTTP_ACCEPT="application/json")
    ready = client.get("/health/ready/", HTTP_HOST="10.1.2.3:8000")
    other = client.get("/no-such-page/", HTTP_HOST="10.1.2.3")

    assert health.status_code == 503
    assert health.json()["status"] == "fail"
    assert ready.status_code == 503
    assert other.status_code == 400  # the rest of the site keeps Django's Host validation
