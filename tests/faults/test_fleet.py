"""A fleet on one Redis: two releases of the example project during a rolling deploy, and two
environments, each answering for its own code and database (real gunicorn, PostgreSQL, Redis).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.cluster import Cluster
from tests.faults.server import TOKEN, Server, free_port, get, manage

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"X-Health-Token": TOKEN, "Accept": "application/json"}
TTL = 0.5
NEW_FIELD = "    region = models.CharField(max_length=20, null=True, blank=True)\n"
NEW_MIGRATION = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("integrations", "0002_integration_settings")]
    operations = [migrations.AddField("integration", "region",
                                      models.CharField(max_length=20, null=True, blank=True))]
"""


def _pg(statement: str) -> None:
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(statement)


@pytest.fixture
def databases() -> Iterator[list[str]]:
    names = [f"hd_fleet_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    for name in names:
        _pg(f'CREATE DATABASE "{name}"')
    yield names
    for name in names:
        _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def releases(tmp_path: Path) -> tuple[Path, Path]:
    """Release 1 is the example project; release 2 adds a field and its migration."""
    ignore = shutil.ignore_patterns("*.sqlite3", "__pycache__")
    one, two = tmp_path / "release1", tmp_path / "release2"
    shutil.copytree(ROOT / "example_project", one, ignore=ignore)
    shutil.copytree(ROOT / "example_project", two, ignore=ignore)
    models = two / "integrations" / "models.py"
    text = models.read_text()
    anchor = '    settings = models.TextField(blank=True, default="")\n'
    models.write_text(text.replace(anchor, anchor + NEW_FIELD, 1))
    (two / "integrations" / "migrations" / "0003_integration_region.py").write_text(NEW_MIGRATION)
    return one, two


def env_for(release: Path, database: str, prefix: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "HEALTH_DEEP_TOKEN": TOKEN,
        "DJANGO_SETTINGS_MODULE": "tests.faults.site_settings",
        "PYTHONPATH": os.pathsep.join([str(release), str(ROOT)]),
        "FAULT_CACHE_TTL": str(TTL),
        "FAULT_REDIS_URL": "redis://127.0.0.1:6379/0",
        "FAULT_REDIS_PREFIX": prefix,
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def poll(server: Server) -> tuple[int, set[str]]:
    answer = get(server.port, "/health/", headers=AUTH)
    body = json.loads(answer.body)
    found = {f["id"] for check in body["checks"].values() for f in check.get("findings", [])}
    return answer.status, found


def serve(env: dict[str, str], log: Path) -> Server:
    return Server("gunicorn", env, log, workers=1, threads=4)


def test_two_releases_on_one_redis_each_answer_for_their_own_code(
    releases: tuple[Path, Path], databases: list[str], tmp_path: Path
) -> None:
    prefix = f"hd-fleet-{uuid.uuid4().hex[:8]}"
    old_env = env_for(releases[0], databases[0], prefix)
    new_env = env_for(releases[1], databases[0], prefix)
    manage(old_env, "migrate", "--noinput")
    old, new = serve(old_env, tmp_path / "old.log"), serve(new_env, tmp_path / "new.log")
    try:
        before = []
        for _ in range(30):  # the rolling deploy: both releases serve, migrate has not run
            before.append(("old", *poll(old)))
            before.append(("new", *poll(new)))
            time.sleep(TTL / 3)
        manage(new_env, "migrate", "--noinput")
        time.sleep(TTL * 2)
        after = []
        for _ in range(20):
            after.append(("old", *poll(old)))
            after.append(("new", *poll(new)))
            time.sleep(TTL / 3)
    finally:
        old.stop()
        new.stop()

    wrong = [
        (who, status, sorted(found))
        for who, status, found in before
        if (who == "old" and (status != 200 or "health_deep.E101" in found))
        or (who == "new" and (status != 503 or "health_deep.E101" not in found))
    ]
    assert wrong == [], wrong[:5]
    assert [(who, status) for who, status, _ in after if status != 200] == []


def test_two_databases_on_one_redis_never_see_each_others_results(
    releases: tuple[Path, Path], databases: list[str], tmp_path: Path
) -> None:
    prefix = f"hd-fleet-{uuid.uuid4().hex[:8]}"
    prod_env = env_for(releases[0], databases[0], prefix)
    staging_env = env_for(releases[0], databases[1], prefix)
    manage(prod_env, "migrate", "--noinput")
    manage(staging_env, "migrate", "--noinput")
    manage(staging_env, "migrate", "integrations", "0001", "--noinput")  # staging is behind
    prod, staging = (
        serve(prod_env, tmp_path / "prod.log"),
        serve(staging_env, tmp_path / "staging.log"),
    )
    try:
        answers = []
        for _ in range(30):
            answers.append(("prod", *poll(prod)))
            answers.append(("staging", *poll(staging)))
            time.sleep(TTL / 3)
    finally:
        prod.stop()
        staging.stop()

    wrong = [
        (who, status)
        for who, status, found in answers
        if (who == "prod" and status != 200) or (who == "staging" and status != 503)
    ]
    assert wrong == [], wrong[:5]


def probe_command(env: dict[str, str], url: str) -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, "-m", "django", "health_deep", "probe", url, "--timeout", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, result.stdout.strip()


def test_the_container_probe_command_reads_a_real_servers_verdict(
    releases: tuple[Path, Path], databases: list[str], tmp_path: Path
) -> None:
    env = {
        **env_for(releases[0], databases[0], f"hd-probe-{uuid.uuid4().hex[:8]}"),
        "FAULT_REDIS_URL": "",
    }
    manage(env, "migrate", "--noinput")
    server = serve(env, tmp_path / "probe.log")
    url = f"http://127.0.0.1:{server.port}/health/ready/"
    try:
        healthy = probe_command(env, url)
        _pg_in(
            databases[0],
            "DELETE FROM django_migrations WHERE app = 'integrations' "
            "AND name = '0002_integration_settings'",
        )
        time.sleep(TTL * 2)
        broken = probe_command(env, url)
    finally:
        server.stop()
    gone = probe_command(env, url)

    assert healthy[0] == 0 and healthy[1].startswith("200")
    assert broken[0] == 1 and broken[1].startswith("503")
    assert gone[0] == 2 and "no answer" in gone[1]


def _pg_in(database: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", user="postgres", dbname=database, autocommit=True
    ) as conn:
        conn.execute(statement)


@pytest.fixture
def two_servers() -> Iterator[tuple[Cluster, Cluster]]:
    """Two PostgreSQL servers, reached through identical settings (``HOST=127.0.0.1``, no
    port): which one a process reaches is decided by ``PGPORT`` alone, as libpq's
    environment, a DNS name resolved per namespace or a failover decide it in real fleets."""
    servers = (Cluster(port=free_port()), Cluster(port=free_port()))
    try:
        for server in servers:
            server.init()
        yield servers
    finally:
        for server in servers:
            server.destroy()


@pytest.mark.parametrize("first", ["staging", "production"])
def test_identical_settings_reaching_two_servers_never_share_a_verdict(
    releases: tuple[Path, Path], two_servers: tuple[Cluster, Cluster], tmp_path: Path, first: str
) -> None:
    prefix = f"hd-fleet-{uuid.uuid4().hex[:8]}"
    same = {**env_for(releases[0], "faults", prefix)}
    same["DATABASE_URL"] = "postgres://postgres@127.0.0.1/faults"  # no port: PGPORT decides
    envs = {
        "production": {**same, "PGPORT": str(two_servers[0].port)},
        "staging": {**same, "PGPORT": str(two_servers[1].port)},
    }
    for env in envs.values():
        manage(env, "migrate", "--noinput")
    with two_servers[1].connect() as conn:  # staging's schema lost a column
        conn.execute("ALTER TABLE integrations_integration DROP COLUMN settings")
    order = [first, *(who for who in envs if who != first)]
    servers = {who: serve(envs[who], tmp_path / f"{who}.log") for who in order}
    try:
        answers = []
        for _ in range(30):
            for who in order:
                answers.append((who, *poll(servers[who])))
            time.sleep(TTL / 3)
    finally:
        for server in servers.values():
            server.stop()

    wrong = [
        (who, status, sorted(found))
        for who, status, found in answers
        if (who == "production") != (status == 200)
    ]
    assert wrong == [], wrong[:5]
    assert sum(who == "staging" for who, *_ in answers) == 30
