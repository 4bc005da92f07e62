"""Shared fixtures. With HEALTH_DEEP_TEST_DB=postgres or mariadb the real server must answer;
in CI (CI=true) its absence fails the run instead of skipping it."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from health_deep import memo
from health_deep.probe_cache import CACHE
from tests.sites import BACKEND, ROOT, Site

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_configure(config: pytest.Config) -> None:
    if BACKEND == "sqlite":
        return
    db = settings.DATABASES["default"]
    try:
        if BACKEND == "postgres":
            import psycopg

            psycopg.connect(
                host=db["HOST"],
                port=db["PORT"],
                user=db["USER"],
                password=db["PASSWORD"],
                dbname=db["NAME"],
                connect_timeout=3,
            ).close()
        else:
            import MySQLdb

            MySQLdb.connect(
                host=db["HOST"],
                port=int(db["PORT"]),
                user=db["USER"],
                passwd=db["PASSWORD"],
                db=db["NAME"],
                connect_timeout=3,
            ).close()
    except Exception as exc:  # the driver's own OperationalError, whichever it is
        if IN_CI:
            raise pytest.UsageError(f"CI=true and {BACKEND} is unreachable: {exc}") from exc
        pytest.exit(f"{BACKEND} is unreachable, skipping the {BACKEND} run: {exc}", returncode=0)


@pytest.fixture(autouse=True)
def _fresh_code_facts() -> Iterator[None]:
    """Each test starts from a process that has computed nothing yet (the test bodies never
    reset anything: changing a setting forgets what it feeds, see ``health_deep.memo``)."""
    memo.reset()
    CACHE.clear()
    yield
    memo.reset()
    CACHE.clear()


@pytest.fixture(scope="session", autouse=True)
def _pristine_mariadb(request: pytest.FixtureRequest) -> Any:
    """The migrated MariaDB schema, read before any test can change it."""
    if BACKEND != "mariadb":
        return None
    from tests.mysql_schema import Pristine

    request.getfixturevalue("django_db_setup")
    with request.getfixturevalue("django_db_blocker").unblock(), connection.cursor() as cursor:
        return Pristine(cursor)


@pytest.fixture(autouse=True)
def _mariadb_schema_restored(request: pytest.FixtureRequest) -> Iterator[None]:
    """MariaDB commits DDL: after a test that used the database, undo its schema changes."""
    yield
    if BACKEND != "mariadb" or request.node.get_closest_marker("django_db") is None:
        return
    pristine = request.getfixturevalue("_pristine_mariadb")
    blocker = request.getfixturevalue("django_db_blocker")
    with blocker.unblock(), connection.cursor() as cursor:
        pristine.restore(cursor)


@pytest.fixture
def restore_django_migrations(transactional_db: None) -> Iterator[None]:
    """Let a test delete or add django_migrations rows; put the table back afterwards."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name, applied FROM django_migrations")
        rows = cursor.fetchall()
    yield
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations")
        for row in rows:
            cursor.execute(
                "INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, %s)", row
            )


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path / 'site.sqlite3'}"
        return
    name = f"hd_site_{uuid.uuid4().hex[:12]}"
    if BACKEND == "mariadb":
        import MySQLdb

        admin = MySQLdb.connect(host="127.0.0.1", port=3306, user="root", passwd="")
        admin.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        yield f"mysql://root@127.0.0.1:3306/{name}"
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()
        return
    import psycopg

    options = dict(host="127.0.0.1", port=5432, user="postgres", dbname="postgres", autocommit=True)
    with psycopg.connect(**options) as conn:  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(**options) as conn:  # type: ignore[arg-type]
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def site(tmp_path: Path, database_url: str) -> Site:
    target = tmp_path / "site"
    shutil.copytree(
        ROOT / "example_project", target, ignore=shutil.ignore_patterns("*.sqlite3", "__pycache__")
    )
    return Site(target, database_url)
