"""application/health+json as draft-inadarei-api-health-check describes it, point by point."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import override_settings

from tests.smokeapp.models import Author, Book, Publisher
from tests.test_schema_drift import MY, PG, rebuild

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

TOKEN = "a-long-enough-health-token"
SETTINGS = {"TOKEN": TOKEN, "EXTRA_CHECKS": ["health_check.Cache"], "CACHE_TTL": 0}


def health_json(client: Client, *, authorised: bool = True) -> tuple[int, dict]:
    headers = {"HTTP_X_HEALTH_TOKEN": TOKEN} if authorised else {}
    with override_settings(HEALTH_DEEP=SETTINGS):
        response = client.get("/health/", HTTP_ACCEPT="application/health+json", **headers)
    assert response["Content-Type"] == "application/health+json"  # 3: the media type
    return response.status_code, response.json()


def entries(body: dict) -> list[dict]:
    return [entry for values in body["checks"].values() for entry in values]


def test_status_words_and_http_codes_follow_section_3_1(
    client: Client, restore_django_migrations: None
) -> None:
    healthy = health_json(client)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) "
            "VALUES ('testapp', '0099_newer', CURRENT_TIMESTAMP)"
        )
    warned = health_json(client)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'testapp'")
    failing = health_json(client)

    assert [(code, body["status"]) for code, body in (healthy, warned, failing)] == [
        (200, "pass"),
        (200, "warn"),
        (503, "fail"),
    ]


def test_checks_are_keyed_component_measurement_with_arrays_of_objects_4_1() -> None:
    client = Client()
    _, body = health_json(client)

    for key, values in body["checks"].items():
        assert len(key.split(":")) == 2 and all(key.split(":")), key
        assert isinstance(values, list) and all(isinstance(v, dict) for v in values)
    assert {e["componentType"] for e in entries(body)} <= {"datastore", "component", "system"}


def test_a_pass_entry_has_no_output_even_for_authorised_callers_4_8(client: Client) -> None:
    _, body = health_json(client)

    passing = [e for e in entries(body) if e["status"] == "pass"]
    assert passing and all("output" not in e for e in passing)


def test_time_is_iso_8601_4_7(client: Client) -> None:
    _, body = health_json(client)

    for entry in entries(body):
        assert datetime.datetime.fromisoformat(entry["time"]).tzinfo is not None


def test_another_checks_entry_is_its_own_component_4_2(client: Client) -> None:
    _, body = health_json(client)

    cache = [e for e in entries(body) if e["componentId"] == "Cache(alias='default')"]
    assert len(cache) == 1
    assert "observedValue" not in cache[0]  # no "0 critical findings" for a check not ours


def test_affected_endpoints_are_uri_templates_4_6(client: Client) -> None:
    author = Author.objects.create(name="Le Guin")
    publisher = Publisher.objects.create(name="Ace", country="US")
    Book.objects.create(title="The Dispossessed", author=author, publisher=publisher)
    if PG:
        with connection.cursor() as cursor:
            cursor.execute('ALTER TABLE "smokeapp_book" RENAME COLUMN "title" TO "gone"')
    elif MY:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE `smokeapp_book` RENAME COLUMN `title` TO `gone`")
    else:
        rebuild("smokeapp_book", r'"title"', '"gone"')
    try:
        code, body = health_json(client)
    finally:
        if PG or MY:
            q = "`" if MY else '"'
            with connection.cursor() as cursor:
                cursor.execute(
                    f"ALTER TABLE {q}smokeapp_book{q} RENAME COLUMN {q}gone{q} TO {q}title{q}"
                )
        else:
            rebuild("smokeapp_book", r'"gone"', '"title"')

    affected = [u for e in entries(body) for u in e.get("affectedEndpoints", [])]
    assert code == 503
    assert "/library/books/{pk}/" in affected
    assert not any("(" in u or "<" in u for u in affected), affected


def test_anonymous_callers_get_no_affected_endpoints_or_names(client: Client) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'testapp' AND name = '0002_tidy_names'"
        )
    try:
        _, body = health_json(client, authorised=False)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO django_migrations (app, name, applied) "
                "VALUES ('testapp', '0002_tidy_names', CURRENT_TIMESTAMP)"
            )

    assert "testapp" not in str(body)
    assert not any("affectedEndpoints" in e for e in entries(body))
