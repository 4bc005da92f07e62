"""``manage.py health_deep lock``: the pre-merge gate, on a git copy of the example project.

No database is needed: the site's DATABASE_URL points at a server that does not exist.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from health_deep.history.fingerprint import ALGORITHM
from tests.sites import Site, commit_all

pytestmark = pytest.mark.subprocess

MIGRATION = Path("integrations/migrations/0002_integration_settings.py")
DATA_MIGRATION = Path("integrations/migrations/0003_tidy.py")
DATA_SOURCE = """from django.db import migrations


def forwards(apps, schema_editor):
    Integration = apps.get_model("integrations", "Integration")
    Integration.objects.filter(base_url="").update(enabled=False)


class Migration(migrations.Migration):
    dependencies = [("integrations", "0002_integration_settings")]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RunSQL("UPDATE integrations_webhook SET event = lower(event)",
                          migrations.RunSQL.noop),
    ]
"""


def lock(site: Site, *args: str) -> subprocess.CompletedProcess[str]:
    return site.manage("health_deep", "lock", *args)


@pytest.fixture
def repo(site: Site) -> Site:
    """The example site in git, with a data migration, locked and committed; no database."""
    site.env["DATABASE_URL"] = "postgres://nobody@127.0.0.1:1/nowhere"
    (site.path / DATA_MIGRATION).write_text(DATA_SOURCE)
    assert lock(site).returncode == 0
    commit_all(site.path)
    return site


def test_lockfile_is_sorted_stable_and_byte_identical_when_regenerated(repo: Site) -> None:
    first = (repo.path / "migrations.lock").read_bytes()

    assert lock(repo).returncode == 0

    assert (repo.path / "migrations.lock").read_bytes() == first
    lines = [line for line in first.decode().splitlines() if not line.startswith("#")]
    assert lines == sorted(lines)
    assert f"# algorithm: {ALGORITHM}" in first.decode()
    assert any(line.startswith(f"integrations.0003_tidy {ALGORITHM}:") for line in lines)


def test_check_passes_on_untouched_code(repo: Site) -> None:
    result = lock(repo, "--check")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "migrations match" in result.stdout


def test_reformatting_an_applied_migration_passes(repo: Site) -> None:
    (repo.path / DATA_MIGRATION).write_text(
        DATA_SOURCE.replace('"', "'")
        .replace("    operations = [", "    # tidy\n    operations = [")
        .replace("migrations.RunSQL.noop)", "migrations.RunSQL.noop,)")
    )

    assert lock(repo, "--check").returncode == 0


@pytest.mark.parametrize(
    ("path", "old", "new", "expected"),
    [
        (
            MIGRATION,
            "field=models.TextField(blank=True, default='')",
            "field=models.TextField(blank=True, default='{}')",
            "AddField integration.settings: field.default '' -> '{}'",
        ),
        (
            MIGRATION,
            "        ),\n    ]",
            "        ),\n        migrations.AddField('webhook', 'secret', "
            "models.CharField(max_length=64, default='')),\n    ]",
            "added operation AddField webhook.secret",
        ),
        (DATA_MIGRATION, "lower(event)", "upper(event)", "RunSQL: sql"),
        (
            DATA_MIGRATION,
            'base_url=""',
            'base_url="-"',
            "RunPython: code: body of forwards changed",
        ),
        (
            DATA_MIGRATION,
            '("integrations", "0002_integration_settings")',
            '("integrations", "0001_initial")',
            "dependencies: - ('integrations', '0002_integration_settings')",
        ),
        (
            DATA_MIGRATION,
            '        migrations.RunSQL("UPDATE integrations_webhook SET event = '
            'lower(event)",\n                          migrations.RunSQL.noop),\n',
            "",
            "removed operation RunSQL",
        ),
    ],
    ids=[
        "field option",
        "added operation",
        "RunSQL text",
        "RunPython body",
        "dependency",
        "removed operation",
    ],
)
def test_semantic_edit_fails_with_a_readable_difference(
    repo: Site, path: Path, old: str, new: str, expected: str
) -> None:
    repo.edit(path, old, new)

    result = lock(repo, "--check")

    assert result.returncode == 1
    assert f"EDITED   integrations.{path.stem}" in result.stdout
    assert expected in result.stdout


def test_deleted_migration_fails(repo: Site) -> None:
    (repo.path / DATA_MIGRATION).unlink()

    result = lock(repo, "--check")

    assert result.returncode == 1
    assert "DELETED  integrations.0003_tidy" in result.stdout


def test_new_migration_fails_until_locked_and_update_adds_it(repo: Site) -> None:
    (repo.path / "integrations/migrations/0004_more.py").write_text(
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
        "    dependencies = [('integrations', '0003_tidy')]\n    operations = []\n"
    )

    failing = lock(repo, "--check")
    updating = lock(repo, "--check", "--update")
    after = lock(repo, "--check")

    assert failing.returncode == 1 and "NEW      integrations.0004_more" in failing.stdout
    assert updating.returncode == 0
    assert f"integrations.0004_more {ALGORITHM}:" in (repo.path / "migrations.lock").read_text()
    assert after.returncode == 0


def test_update_never_accepts_an_edit(repo: Site) -> None:
    repo.edit(DATA_MIGRATION, "lower(event)", "upper(event)")
    before = (repo.path / "migrations.lock").read_text()

    result = lock(repo, "--check", "--update")

    assert result.returncode == 1
    assert (repo.path / "migrations.lock").read_text() == before


def test_squashed_migration_replacing_locked_ones_is_handled(repo: Site) -> None:
    squash = repo.path / "integrations/migrations/0001_squashed_0003_tidy.py"
    initial = (repo.path / "integrations/migrations/0001_initial.py").read_text()
    squash.write_text(
        initial.replace(
            "class Migration(migrations.Migration):\n",
            "class Migration(migrations.Migration):\n"
            "    replaces = [('integrations', '0001_initial'),"
            " ('integrations', '0002_integration_settings'), ('integrations', '0003_tidy')]\n",
        )
    )
    assert lock(repo, "--check", "--update").returncode == 0  # the squash is new: locked now
    for name in ("0001_initial", "0002_integration_settings", "0003_tidy"):
        (repo.path / f"integrations/migrations/{name}.py").unlink()

    result = lock(repo, "--check", "--update")

    assert result.returncode == 0, result.stdout
    assert "SQUASHED integrations.0002_integration_settings" in result.stdout
    text = (repo.path / "migrations.lock").read_text()
    assert "integrations.0002_integration_settings" not in text
    assert f"integrations.0001_squashed_0003_tidy {ALGORITHM}:" in text


def test_missing_or_foreign_lockfile_fails_clearly(repo: Site) -> None:
    (repo.path / "migrations.lock").write_text("# algorithm: hd0\nintegrations.0001 hd0:x\n")
    wrong_algorithm = lock(repo, "--check")
    (repo.path / "migrations.lock").unlink()
    missing = lock(repo, "--check")

    assert wrong_algorithm.returncode == 1 and "regenerate" in wrong_algorithm.stderr
    assert missing.returncode == 1 and "No lockfile" in missing.stderr


def test_the_example_projects_committed_lockfile_is_current(site: Site) -> None:
    site.env["DATABASE_URL"] = "postgres://nobody@127.0.0.1:1/nowhere"

    result = lock(site, "--check")

    assert result.returncode == 0, result.stdout + result.stderr


# The deploy plan before merge: the same judgement as `health_deep plan`, with no database.

DROP = """from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("integrations", "0003_tidy")]

    operations = [migrations.RemoveField("integration", "settings")]
"""
NULLABLE = DROP.replace(
    'migrations.RemoveField("integration", "settings")',
    'migrations.AddField("integration", "note", models.TextField(null=True))',
).replace("from django.db import migrations", "from django.db import migrations, models")
NEW = Path("integrations/migrations/0004_next.py")


def test_check_judges_a_new_migration_against_the_locked_release(repo: Site) -> None:
    (repo.path / NEW).write_text(DROP)

    result = lock(repo, "--check", "--update")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "health_deep.E402" in result.stdout
    assert "integrations_integration.settings" in result.stdout
    assert "integrations.0004_next operation 1" in result.stdout


def test_check_with_base_judges_what_the_branch_adds_to_the_target_branch(repo: Site) -> None:
    (repo.path / NEW).write_text(DROP)
    assert lock(repo, "--check", "--update").returncode == 1  # locked, but unsafe
    commit_all(repo.path, "branch: drop the column")

    plain = lock(repo, "--check")
    based = lock(repo, "--check", "--base", "HEAD~1")

    assert plain.returncode == 0, plain.stdout  # every migration is in the lockfile now
    assert based.returncode == 1, based.stdout + based.stderr
    assert "health_deep.E402" in based.stdout


def test_check_passes_a_backward_compatible_new_migration(repo: Site) -> None:
    (repo.path / NEW).write_text(NULLABLE)

    result = lock(repo, "--check", "--update")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "are safe for the release the lockfile describes" in result.stdout


def test_no_plan_skips_the_deploy_judgement(repo: Site) -> None:
    (repo.path / NEW).write_text(DROP)

    result = lock(repo, "--check", "--update", "--no-plan")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "E402" not in result.stdout


def test_base_that_git_does_not_know_exits_2(repo: Site) -> None:
    result = lock(repo, "--check", "--base", "no-such-branch")

    assert result.returncode == 2
    assert "no-such-branch" in result.stderr


def test_base_that_looks_like_an_option_reaches_git_as_nothing(repo: Site) -> None:
    written = repo.path / "written-by-git"

    result = lock(repo, "--check", f"--base=--output={written}")

    assert result.returncode == 2
    assert not list(repo.path.glob("written-by-git*"))  # git never took it for --output


def test_a_lockfile_that_is_not_utf8_exits_2_with_a_clear_message(repo: Site) -> None:
    (repo.path / "migrations.lock").write_bytes(b"# health_deep\n\xff\xfe broken\n")

    result = lock(repo, "--check")

    assert result.returncode == 2
    assert "not UTF-8" in result.stderr
    assert "Traceback" not in result.stderr
