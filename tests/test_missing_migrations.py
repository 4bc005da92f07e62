"""W106 is exactly ``makemigrations --check``'s verdict, whatever language the site runs in."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

from health_deep import runner
from health_deep.history import graph

pytestmark = pytest.mark.django_db(databases=["default", "other"])


def makemigrations_check() -> bool:
    """True when ``makemigrations --check --dry-run`` says there is nothing to write."""
    try:
        call_command(
            "makemigrations",
            "--check",
            "--dry-run",
            "--noinput",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    except SystemExit as exc:
        return exc.code in (0, None)
    return True


@pytest.mark.parametrize("language", ["de", "fr", "ja", "en-us"])
def test_no_W106_on_a_translated_site(language: str) -> None:
    with override_settings(LANGUAGE_CODE=language, USE_I18N=True), translation.override(language):
        assert translation.gettext("user") != "user" or language == "en-us"  # really translated
        found = [f for f in runner.code_findings() if f.id == "health_deep.W106"]
        clean = makemigrations_check()

    assert clean
    assert found == [], [f.object for f in found]


def test_language_is_restored_after_the_autodetector_runs() -> None:
    with translation.override("de"):
        graph.find_changes()

        assert translation.get_language() == "de"
