"""OpenMetrics a Prometheus user can alert on, checked by Prometheus's own tools."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import override_settings

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def scrape(client: Client) -> str:
    response = client.get("/health/", HTTP_ACCEPT="application/openmetrics-text")
    assert response.status_code == 200  # Prometheus ingests 200s only
    assert response["Content-Type"].startswith("application/openmetrics-text")
    return response.content.decode()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def promtool(text: str) -> None:
    tool = shutil.which("promtool")
    if tool is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("promtool is not installed (apt-get install prometheus)")
        pytest.skip("promtool is not installed")
    result = subprocess.run(
        [tool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_warning_is_healthy_and_visible_as_a_warning(
    client: Client, restore_django_migrations: None
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) "
            "VALUES ('testapp', '0099_from_a_newer_release', CURRENT_TIMESTAMP)"
        )

    text = scrape(client)

    found = samples(text)
    migrations = "Migrations(alias='default')"
    assert found[("health_deep_up", ())] == 1
    assert found[("health_deep_check_status", (("check", migrations), ("status", "warn")))] == 1
    assert (
        found[
            (
                "health_deep_findings",
                (("check", migrations), ("id", "health_deep.W102"), ("severity", "warning")),
            )
        ]
        == 1
    )
    assert ("health_deep_check_evaluation_seconds", (("check", migrations),)) in found
    promtool(text)


def test_a_critical_finding_turns_up_to_0(client: Client, restore_django_migrations: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'testapp'")

    text = scrape(client)

    found = samples(text)
    assert found[("health_deep_up", ())] == 0
    counts = {labels: v for (name, labels), v in found.items() if name == "health_deep_findings"}
    assert (
        counts[
            (
                ("check", "Migrations(alias='default')"),
                ("id", "health_deep.E101"),
                ("severity", "critical"),
            )
        ]
        == 2
    )
    assert not any("testapp" in repr(labels) for labels in counts)  # ids, never objects
    promtool(text)


def test_a_healthy_site_exports_its_build_to_authorised_callers_and_passes_promtool(
    client: Client,
) -> None:
    token = "metrics-test-token-0123456789"
    with override_settings(HEALTH_DEEP={"TOKEN": token}):
        response = client.get(
            "/health/", HTTP_ACCEPT="application/openmetrics-text", HTTP_X_HEALTH_TOKEN=token
        )
    text = response.content.decode()

    found = samples(text)
    assert found[("health_deep_up", ())] == 1
    assert any(name == "health_deep_build" for name, _ in found)
    promtool(text)


@pytest.mark.parametrize("url", ["/health/", "/health/ready/", "/health/live/"])
def test_anonymous_callers_never_see_the_versions(client: Client, url: str) -> None:
    import django

    response = client.get(url, HTTP_ACCEPT="application/openmetrics-text")
    text = response.content.decode()

    assert "health_deep_up" in text
    assert "health_deep_build" not in text and django.get_version() not in text
    promtool(text)
