"""The incident, for real: a copy of the example site, real manage.py processes, real files.

Each test copies ``example_project`` to a temporary folder, migrates it (SQLite file, or a
fresh database on the PostgreSQL server in the PostgreSQL run), edits migration files the way
people do, and asks a *new* process, as a deploy would, what ``/health/`` and
``manage.py health_deep`` say.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.sites import BACKEND, Site, ids

MIGRATION = Path("integrations/migrations/0002_integration_settings.py")

pytestmark = pytest.mark.subprocess


ADDED_FIELD = (
    "        ),\n"
    "        migrations.AddField(\n"
    "            model_name='integration',\n"
    "            name='timeout_seconds',\n"
    "            field=models.PositiveIntegerField(default=30),\n"
    "        ),\n    ]"
)


def test_incident_edit_after_apply_turns_health_503_and_reformat_does_not(site: Site) -> None:
    site.migrate()
    seed = site.manage(
        "shell",
        "-c",
        "from integrations.models import Integration; "
        "Integration.objects.create(name='billing', base_url='https://b.example')",
    )
    assert seed.returncode == 0, seed.stderr
    assert site.report()[0] == 0
    assert site.get("/health/")["/health/"][0] == 200

    # A formatter rewrites the applied migration: quotes, wrapping, comments, import order.
    (site.path / MIGRATION).write_text(
        "# reformatted\nfrom django.db import models, migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        '    dependencies = [("integrations", "0001_initial")]\n\n'
        "    operations = [\n"
        "        migrations.AddField(\n"
        '            model_name="integration",\n'
        '            name="settings",\n'
        '            field=models.TextField(default="", blank=True),  # free text\n'
        "        ),\n    ]\n"
    )
    code, report = site.report()
    assert (code, ids(report)) == (0, [])
    assert site.get("/health/")["/health/"][0] == 200

    # The engineer's edit: a new field inside the applied migration, and in the model.
    site.edit(MIGRATION, "        ),\n    ]", ADDED_FIELD.replace("'", '"'))
    site.edit(
        "integrations/models.py",
        '    settings = models.TextField(blank=True, default="")\n',
        '    settings = models.TextField(blank=True, default="")\n'
        "    timeout_seconds = models.PositiveIntegerField(default=30)\n",
    )
    assert "No migrations to apply." in site.migrate()

    code, report = site.report()
    responses = site.get("/health/", "/health/ready/", "/api/integrations/")

    assert code == 1
    # Every check sees it: the edited migration, the column that never arrived, and the
    # endpoints whose query needs it.
    assert sorted(set(ids(report))) == ["health_deep.E103", "health_deep.E202", "health_deep.E301"]
    broken = {
        e.split(" (")[1].rstrip(")")
        for f in report["findings"]
        if f["id"] == "health_deep.E301"
        for e in f["endpoints"]
    }
    # Every endpoint that reads an integration row (directly or through the webhook join,
    # Django views and DRF alike), and none that does not.
    assert broken == {
        "integrations:integration-list",
        "integrations:integration-detail",
        "integrations:webhook-list",
        "integrations:enabled-names",
        "integration-list",
        "integration-detail",
        "webhook-list",
        "webhook-detail",
    }
    missing = next(f for f in report["findings"] if f["id"] == "health_deep.E202")
    assert missing["object"] == "integrations_integration.timeout_seconds"
    edited = next(f for f in report["findings"] if f["id"] == "health_deep.E103")
    assert edited["object"] == "integrations.0002_integration_settings"
    assert responses["/health/"][0] == 503
    assert responses["/health/ready/"][0] == 503
    assert responses["/api/integrations/"][0] == 500  # what the users saw
    findings = responses["/health/"][1]["checks"]["Migrations(alias='default')"]["findings"]
    assert "health_deep.E103" in [f["id"] for f in findings]


def test_incident_without_the_ledger_is_still_caught_by_schema_drift(site: Site) -> None:
    site.migrate()
    # A site that never had the ledger (or lost it): only the schema can tell.
    wipe = site.manage(
        "shell",
        "-c",
        "from health_deep.models import LedgerEntry; LedgerEntry.objects.all().delete()",
    )
    assert wipe.returncode == 0, wipe.stderr
    site.edit(MIGRATION, "        ),\n    ]", ADDED_FIELD)
    site.edit(
        "integrations/models.py",
        '    settings = models.TextField(blank=True, default="")\n',
        '    settings = models.TextField(blank=True, default="")\n'
        "    timeout_seconds = models.PositiveIntegerField(default=30)\n",
    )

    code, report = site.report()
    responses = site.get("/health/")

    assert code == 1
    assert sorted(set(ids(report))) == ["health_deep.E202", "health_deep.E301"]
    assert responses["/health/"][0] == 503
    drift = responses["/health/"][1]["checks"]["SchemaDrift(alias='default')"]["findings"]
    assert [f["object"] for f in drift] == ["integrations_integration.timeout_seconds"]


def test_new_migration_not_yet_applied_is_E101(site: Site) -> None:
    site.migrate()
    (site.path / "integrations/migrations/0003_webhook_secret.py").write_text(
        "from django.db import migrations, models\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [('integrations', '0002_integration_settings')]\n"
        "    operations = [migrations.AddField('webhook', 'secret', "
        "models.CharField(max_length=64, default=''))]\n"
    )
    site.edit(
        "integrations/models.py",
        "    target = models.URLField()\n",
        "    target = models.URLField()\n    secret = models.CharField(max_length=64, "
        "default='')\n",
    )

    code, report = site.report()

    assert code == 1
    assert ids(report) == ["health_deep.E101", "health_deep.E202", "health_deep.E301"]
    assert site.get("/health/")["/health/"][0] == 503


def test_rolled_back_then_edited_then_reapplied_is_clean(site: Site) -> None:
    site.migrate()
    site.migrate("integrations", "0001")
    code, report = site.report("migrations")
    assert (code, ids(report)) == (1, ["health_deep.E101"])

    site.edit(MIGRATION, "        ),\n    ]", ADDED_FIELD)
    site.edit(
        "integrations/models.py",
        '    settings = models.TextField(blank=True, default="")\n',
        '    settings = models.TextField(blank=True, default="")\n'
        "    timeout_seconds = models.PositiveIntegerField(default=30)\n",
    )
    site.migrate()

    code, report = site.report()
    assert (code, ids(report), ids(report, "warning")) == (0, [], [])


def test_migrations_applied_before_install_are_adopted_as_baseline(site: Site) -> None:
    urls = (site.path / "example/urls.py").read_text()
    site.edit("example/settings.py", '    "health_deep",\n', "")
    site.edit("example/urls.py", '    path("health/", include("health_deep.urls")),\n', "")
    site.migrate()
    site.edit(
        "example/settings.py", '    "health_check",\n', '    "health_check",\n    "health_deep",\n'
    )
    (site.path / "example/urls.py").write_text(urls)
    site.migrate()

    code, report = site.report()

    assert code == 0
    assert ids(report, "info") == ["health_deep.I105", "health_deep.I305"]
    adopted = next(f for f in report["findings"] if f["id"] == "health_deep.I105")
    assert "integrations.0002_integration_settings" in adopted["details"]["migrations"]


def test_model_change_without_migration_is_W106(site: Site) -> None:
    site.migrate()
    site.edit(
        "integrations/models.py",
        "    event = models.CharField(max_length=50)",
        "    event = models.CharField(max_length=80)",
    )

    code, report = site.report()

    assert ids(report, "warning") == ["health_deep.W106"]
    if BACKEND == "sqlite":  # SQLite does not enforce varchar lengths: nothing breaks
        assert (code, ids(report)) == (0, [])
        assert site.get("/health/")["/health/"][0] == 200
    else:  # the model now accepts 80 characters the column rejects
        assert (code, ids(report)) == (1, ["health_deep.E204"])
        assert site.get("/health/")["/health/"][0] == 503


def test_database_down_live_200_ready_503_fast(site: Site) -> None:
    site.env["DATABASE_URL"] = (
        "sqlite:////nonexistent-dir/db.sqlite3"
        if BACKEND == "sqlite"
        else "postgres://postgres@127.0.0.1:1/nowhere"
    )
    started = time.monotonic()

    responses = site.get("/health/live/", "/health/ready/")

    assert responses["/health/live/"][0] == 200
    assert responses["/health/ready/"][0] == 503
    checks = responses["/health/ready/"][1]["checks"]
    assert checks["Migrations(alias='default')"]["output"] == "Unavailable: health_deep.E002"
    assert time.monotonic() - started < 15
