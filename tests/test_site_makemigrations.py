"""W106 is the verdict of the site's *own* ``makemigrations`` command when it has one (pretix's
ignores help_text, verbose_name and more): run in a child process, never in the caller's.

Each test is a fresh process with ``tests.settings_own_makemigrations``, as a site is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.subprocess

ROOT = Path(__file__).resolve().parent.parent

# Reports W106/I111 as the command does, and whether Field.deconstruct is still Django's.
SCRIPT = """
import json, django
django.setup()
from django.db import models
original = models.Field.deconstruct
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.questioner import MigrationQuestioner
from django.db.migrations.state import ProjectState
from django.apps import apps
from health_deep import runner
found = [
    {"id": f.id, "object": f.object, "message": f.message, "details": dict(f.details)}
    for f in runner.code_findings()
]
loader = MigrationLoader(None, ignore_no_migrations=True)
stock = MigrationAutodetector(
    loader.project_state(), ProjectState.from_apps(apps), MigrationQuestioner(dry_run=True)
).changes(graph=loader.graph)
print(json.dumps({
    "findings": found,
    "stock": sorted(stock),
    "deconstruct_untouched": models.Field.deconstruct is original,
}))
"""


def run(**env: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings_own_makemigrations",
            "HEALTH_DEEP_TEST_DB": "sqlite",  # the verdict is code only: no database is opened
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_W106_follows_the_sites_own_makemigrations_and_leaves_the_process_untouched() -> None:
    report = run()

    w106 = {f["object"]: f["details"]["operations"] for f in report["findings"]}
    # Django's own autodetector sees help_text changes in both apps: the test means something.
    assert report["stock"] == ["mm_cosmetic", "mm_real"]
    # The site's command ignores help_text: only the real change is left, as its --check says.
    assert w106 == {"mm_real": ["Add field colour to tag"]}
    assert report["deconstruct_untouched"]  # its patch stayed in the child


def test_I111_when_the_sites_command_fails() -> None:
    report = run(MM_COSMETIC_FAIL="1")

    [finding] = report["findings"]
    assert finding["id"] == "health_deep.I111"
    assert "RuntimeError" in finding["message"] and "mm_cosmetic" in finding["message"]
