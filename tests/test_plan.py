"""``manage.py health_deep plan``: release 1 migrated and serving, release 2 = release 1 + one
pending migration, judged before ``migrate`` on a real database of each backend."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.sites import BACKEND, Site

pytestmark = pytest.mark.subprocess

PENDING = Path("integrations/migrations/0003_release_2.py")
HEADER = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("integrations", "0002_integration_settings")]

    operations = [
"""


def release_2(site: Site, *operations: str, preamble: str = "") -> None:
    """Release 2's code: release 1 plus one pending migration with ``operations``."""
    body = "".join(f"        {op},\n" for op in operations)
    (site.path / PENDING).write_text(preamble + HEADER + body + "    ]\n")


def release_3(site: Site, *operations: str) -> None:
    """One more pending migration, after release 2's (now applied)."""
    body = "".join(f"        {op},\n" for op in operations)
    header = HEADER.replace("0002_integration_settings", PENDING.stem)
    (site.path / PENDING.with_name("0004_release_3.py")).write_text(header + body + "    ]\n")


def plan(site: Site, *args: str) -> tuple[int, dict[str, Any]]:
    result = site.manage("health_deep", "plan", "--format", "json", *args)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout)


def found(report: dict[str, Any], fid: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["id"] == f"health_deep.{fid}"]


def sql(site: Site, *statements: str) -> None:
    """Run statements on the site's database as its own code would (through Django)."""
    code = "from django.db import connection\nwith connection.cursor() as c:\n" + "".join(
        f"    c.execute({s!r})\n" for s in statements
    )
    result = site.manage("shell", "-c", code)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def release_1(site: Site) -> Site:
    site.migrate()
    return site


def test_nothing_pending_is_safe(release_1: Site) -> None:
    code, report = plan(release_1)

    assert code == 0
    assert report["pending"] == [] and report["findings"] == []


def test_E402_dropping_a_column_release_1_reads(release_1: Site) -> None:
    release_2(release_1, 'migrations.RemoveField("integration", "settings")')

    code, report = plan(release_1)

    assert code == 1, report
    [finding] = found(report, "E402")
    assert finding["object"] == "integrations_integration.settings"
    assert finding["details"]["migration"] == "integrations.0003_release_2"
    assert "operation 1" in finding["message"]
    assert report["pending"] == ["integrations.0003_release_2"]


def test_E402_renaming_a_column_release_1_reads(release_1: Site) -> None:
    release_2(release_1, 'migrations.RenameField("webhook", "target", "url")')

    code, report = plan(release_1)

    assert code == 1, report
    assert [f["object"] for f in found(report, "E402")] == ["integrations_webhook.target"]


def test_renaming_a_field_but_keeping_its_column_is_safe(release_1: Site) -> None:
    release_2(
        release_1,
        'migrations.AlterField("webhook", "target", models.URLField(db_column="target"))',
        'migrations.RenameField("webhook", "target", "url")',
    )

    code, report = plan(release_1)

    assert code == 0, report


def test_E405_adding_a_not_null_column_without_a_database_default(release_1: Site) -> None:
    release_2(
        release_1,
        'migrations.AddField("integration", "owner", models.CharField(max_length=20, '
        'default="ops"), preserve_default=False)',
    )

    code, report = plan(release_1)

    assert code == 1, report
    [finding] = found(report, "E405")
    assert finding["object"] == "integrations_integration.owner"
    assert "Add field owner to integration" in finding["message"]


def test_adding_a_nullable_column_is_safe(release_1: Site) -> None:
    release_2(
        release_1,
        'migrations.AddField("integration", "owner", models.CharField(max_length=20, null=True))',
    )

    code, report = plan(release_1)

    assert (code, report["findings"]) == (0, [])


def test_adding_a_not_null_column_with_db_default_is_safe(release_1: Site) -> None:
    release_2(
        release_1,
        'migrations.AddField("integration", "tier", models.IntegerField(db_default=1))',
    )

    code, report = plan(release_1)

    assert (code, report["findings"]) == (0, [])


def test_a_new_model_and_a_new_index_are_safe(release_1: Site) -> None:
    release_2(
        release_1,
        'migrations.CreateModel("Audit", [("id", models.BigAutoField(primary_key=True)), '
        '("what", models.TextField())])',
        'migrations.AddIndex("webhook", models.Index(fields=["event"], name="webhook_event"))',
    )

    code, report = plan(release_1)

    assert (code, report["findings"]) == (0, [])


def test_removing_a_field_from_the_state_only_is_the_safe_first_step(release_1: Site) -> None:
    release_2(
        release_1,
        "migrations.SeparateDatabaseAndState(state_operations=["
        'migrations.RemoveField("integration", "settings")])',
    )

    code, report = plan(release_1)

    assert (code, report["findings"]) == (0, [])


def test_E404_making_a_column_release_1_leaves_null_not_null(release_1: Site) -> None:
    release_2(
        release_1,
        'migrations.AddField("integration", "note", models.TextField(null=True))',
    )
    release_1.migrate()  # release 2 is now the one running
    release_3(release_1, 'migrations.AlterField("integration", "note", models.TextField())')

    code, report = plan(release_1)

    assert code == 1, report
    assert [f["object"] for f in found(report, "E404")] == ["integrations_integration.note"]


def test_W407_I408_sql_and_python_are_reported_as_not_statically_known(release_1: Site) -> None:
    release_2(
        release_1,
        'migrations.RunSQL("UPDATE integrations_webhook SET event = event", '
        "migrations.RunSQL.noop)",
        "migrations.RunPython(forwards, migrations.RunPython.noop)",
        preamble="def forwards(apps, schema_editor):\n    pass\n\n\n",
    )

    code, report = plan(release_1)

    assert code == 0, report
    assert [f["object"] for f in found(report, "W407")] == [
        "integrations.0003_release_2 operation 1"
    ]
    assert [f["object"] for f in found(report, "I408")] == [
        "integrations.0003_release_2 operation 2"
    ]
    assert plan(release_1, "--strict")[0] == 1


def test_text_output_names_the_column_and_the_safe_sequence(release_1: Site) -> None:
    release_2(release_1, 'migrations.RemoveField("integration", "settings")')

    result = release_1.manage("health_deep", "plan")

    assert result.returncode == 1
    assert "migrate breaks the release running now" in result.stdout
    assert "integrations_integration.settings" in result.stdout
    assert "SeparateDatabaseAndState" in result.stdout


def test_plan_applies_nothing(release_1: Site) -> None:
    release_2(release_1, 'migrations.RemoveField("integration", "settings")')

    plan(release_1)

    assert "[ ] 0003_release_2" in release_1.manage("showmigrations", "integrations").stdout


def test_an_unreachable_database_exits_2(release_1: Site) -> None:
    release_1.env["DATABASE_URL"] = "postgres://nobody@127.0.0.1:1/nowhere"

    result = release_1.manage("health_deep", "plan")

    assert result.returncode == 2, result.stdout + result.stderr
    assert "could not be reached" in result.stderr


# Data preflight: what the rows already there make of the pending operations.

INSERT = (
    "INSERT INTO integrations_integration (name, base_url, enabled, created_at, settings) "
    "VALUES ('{name}', 'https://example.com/{name}', {enabled}, '2026-01-01 00:00:00', '')"
)


def integrations(site: Site, count: int, *, enabled: bool = True) -> None:
    value = "TRUE" if enabled else "FALSE"
    sql(site, *(INSERT.format(name=f"svc{i}", enabled=value) for i in range(count)))


def test_E409_not_null_on_a_column_with_null_rows(release_1: Site) -> None:
    release_2(
        release_1,
        'migrations.AddField("integration", "note", models.TextField(null=True))',
    )
    release_1.migrate()
    integrations(release_1, 3)
    release_3(release_1, 'migrations.AlterField("integration", "note", models.TextField())')

    code, report = plan(release_1)

    assert code == 1
    [finding] = found(report, "E409")
    assert finding["details"]["rows"] == 3
    assert finding["object"] == "integrations.0004_release_3 operation 1"


def test_W410_violations_a_backfill_earlier_in_the_plan_may_fix_are_not_E409(
    release_1: Site,
) -> None:
    release_2(release_1, 'migrations.AddField("integration", "note", models.TextField(null=True))')
    release_1.migrate()
    integrations(release_1, 2)
    release_3(
        release_1,
        "migrations.RunPython(backfill, migrations.RunPython.noop)",
        'migrations.AlterField("integration", "note", models.TextField())',
    )
    path = release_1.path / PENDING.with_name("0004_release_3.py")
    path.write_text("def backfill(apps, schema_editor):\n    pass\n\n\n" + path.read_text())

    code, report = plan(release_1)

    assert found(report, "E409") == []
    [finding] = found(report, "W410")
    assert finding["details"]["rows"] == 2
    assert finding["details"]["runs_before"] == "integrations.0004_release_3"
    assert code == 1  # E404 still: the running release may write NULL


def test_a_not_null_change_on_an_empty_table_passes_the_preflight(release_1: Site) -> None:
    release_2(release_1, 'migrations.AddField("integration", "note", models.TextField(null=True))')
    release_1.migrate()
    release_3(release_1, 'migrations.AlterField("integration", "note", models.TextField())')

    code, report = plan(release_1)

    assert found(report, "E409") == [] and found(report, "W410") == []
    assert code == 1 and found(report, "E404")  # the running release may still write NULL


def test_E409_unique_on_duplicates_counts_the_extra_rows(release_1: Site) -> None:
    release_2(
        release_1,
        'migrations.AlterField("integration", "base_url", models.URLField(max_length=200, '
        "unique=True))",
    )
    sql(
        release_1,
        *(
            INSERT.format(name=n, enabled="TRUE").replace(f"/{n}'", "/same'")
            for n in ("a", "b", "c")
        ),
        INSERT.format(name="d", enabled="TRUE"),
    )

    code, report = plan(release_1)

    assert code == 1, report
    [finding] = found(report, "E409")
    assert finding["details"]["rows"] == 2  # three equal values: two rows too many
    assert finding["details"]["fields"] == ["base_url"]


def test_unique_on_distinct_rows_passes(release_1: Site) -> None:
    release_2(
        release_1,
        'migrations.AlterField("integration", "base_url", models.URLField(max_length=200, '
        "unique=True))",
    )
    integrations(release_1, 4)

    code, report = plan(release_1)

    assert found(report, "E409") == [] and code == 0, report


@pytest.mark.skipif(BACKEND == "sqlite", reason="SQLite keeps a value longer than varchar(N)")
def test_E409_shorter_max_length_counts_the_longer_values(release_1: Site) -> None:
    release_2(
        release_1,
        'migrations.AlterField("integration", "name", models.CharField(max_length=4, unique=True))',
    )
    integrations(release_1, 12)  # svc0 .. svc11: two are longer than 4

    code, report = plan(release_1)

    assert code == 1
    [finding] = found(report, "E409")
    assert finding["details"]["rows"] == 2
    assert found(report, "E403")  # varchar(100) -> varchar(4): release 1 writes longer names


@pytest.mark.skipif(BACKEND == "sqlite", reason="SQLite locks the whole file: see below")
def test_W410_a_locked_table_gives_a_partial_answer_within_the_budget(release_1: Site) -> None:
    release_2(
        release_1,
        'migrations.AlterField("integration", "base_url", models.URLField(max_length=200, '
        "unique=True))",
    )
    integrations(release_1, 2)

    with locked(release_1.env["DATABASE_URL"], "integrations_integration"):
        started = time.monotonic()
        code, report = plan(release_1, "--budget", "2")
        took = time.monotonic() - started

    [finding] = found(report, "W410")
    assert code == 0  # unknown is a warning: --strict makes it fail the gate
    assert finding["details"]["rows"] is None
    assert "unknown" in finding["message"] and "time budget" in finding["message"]
    assert found(report, "E409") == []
    assert took < 30  # a process start plus the 2 s budget, not a hang


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite-only")
def test_a_locked_sqlite_file_exits_2_quickly(release_1: Site) -> None:
    release_2(release_1, 'migrations.RemoveField("integration", "settings")')

    with locked(release_1.env["DATABASE_URL"], "integrations_integration"):
        started = time.monotonic()
        result = release_1.manage("health_deep", "plan")
        took = time.monotonic() - started

    assert result.returncode == 2
    assert "did not finish within its timeout" in result.stderr
    assert took < 30


# A million rows: the GROUP BY behind the unique count cannot finish in 0.1 s anywhere.
DIGITS = " UNION ALL ".join(f"SELECT {n} AS n" for n in range(10))
MILLION = (
    f"INSERT INTO integrations_integration (name, base_url, enabled, created_at, settings) "
    f"WITH d AS ({DIGITS}) "
    "SELECT a.n * 100000 + b.n * 10000 + c.n * 1000 + e.n * 100 + f.n * 10 + g.n, "
    "'https://example.com/' , TRUE, '2026-01-01 00:00:00', '' "
    "FROM d a, d b, d c, d e, d f, d g"
)


def test_W410_a_slow_count_gives_a_partial_answer_within_the_budget(release_1: Site) -> None:
    release_2(
        release_1,
        'migrations.AlterField("integration", "base_url", models.URLField(max_length=200, '
        "unique=True))",
    )
    sql(release_1, MILLION.replace("TRUE", "1") if BACKEND == "sqlite" else MILLION)

    code, report = plan(release_1, "--budget", "0.1")

    [finding] = found(report, "W410")
    assert code == 0
    assert finding["details"]["rows"] is None, finding
    assert found(report, "E409") == []  # never "0 rows", never a guess


@contextlib.contextmanager
def locked(url: str, table: str) -> Iterator[None]:
    """Another session holds a lock that blocks readers of ``table``, as a migration does."""
    parts = urlparse(url)
    if BACKEND == "sqlite":
        other = sqlite3.connect(parts.path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
    elif BACKEND == "postgres":
        import psycopg

        with psycopg.connect(url) as other, other.transaction():
            other.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            yield
    else:
        import MySQLdb

        other = MySQLdb.connect(
            host=parts.hostname,
            port=parts.port,
            user=parts.username,
            passwd="",
            db=parts.path.lstrip("/"),
        )
        try:
            other.cursor().execute(f"LOCK TABLES `{table}` WRITE")
            yield
        finally:
            other.close()


@pytest.mark.parametrize("budget", ["nan", "inf", "86400"])
def test_a_budget_that_is_not_a_number_of_seconds_exits_2(release_1: Site, budget: str) -> None:
    result = release_1.manage("health_deep", "plan", f"--budget={budget}")

    assert result.returncode == 2
    assert "--budget must be" in result.stderr


@pytest.mark.skipif(BACKEND == "sqlite", reason="a server that stops answering: not a file")
def test_a_server_that_stops_answering_mid_count_exits_within_the_budget(
    release_1: Site,
) -> None:
    from tests.proxy import SilentProxy

    release_2(release_1, 'migrations.AddField("integration", "note", models.TextField(null=True))')
    release_1.migrate()
    integrations(release_1, 3)
    release_3(release_1, 'migrations.AlterField("integration", "note", models.TextField())')
    url = urlparse(release_1.env["DATABASE_URL"])
    proxy = SilentProxy((url.hostname or "127.0.0.1", url.port or 5432))
    through = release_1.env["DATABASE_URL"].replace(f":{url.port}/", f":{proxy.port}/")
    try:
        proxy.swallow(b"IS NULL")  # the preflight's count never reaches the server
        started = time.monotonic()
        result = release_1.manage_with(
            {"DATABASE_URL": through}, "health_deep", "plan", "--budget", "3", "--format", "json"
        )
        took = time.monotonic() - started
    finally:
        proxy.close()

    assert proxy.swallowed == 1
    assert result.returncode == 1, result.stderr  # E404 stands; the count is unknown
    [unknown] = found(json.loads(result.stdout), "W410")
    assert "stopped answering" in unknown["message"]
    assert took < 3 + 2 + 4, took  # the budget, the grace, and the process's own start-up


def test_W406_names_the_operation_that_adds_the_constraint(release_1: Site) -> None:
    release_2(
        release_1,
        'migrations.AlterField("integration", "base_url", models.URLField(max_length=200, '
        "unique=True))",
        'migrations.AddField("integration", "note", models.TextField(null=True))',
    )

    code, report = plan(release_1)

    assert code == 0  # a warning: the running release may still write what it refuses

    [finding] = found(report, "W406")
    assert "integrations.0003_release_2 operation 1" in finding["message"], finding
    assert finding["details"]["operation"].startswith("Alter field base_url")
