"""Shared fixtures. With HEALTH_DEEP_TEST_DB=postgres the real server must answer; in CI
(CI=true) its absence fails the run instead of skipping it."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from health_deep.history import graph
from health_deep.probe_cache import CACHE
from tests.sites import BACKEND, ROOT, Site

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("HEALTH_DEEP_TEST_DB") != "postgres":
        return
    import psycopg

    db = settings.DATABASES["default"]
    try:
        psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"],
                        password=db["PASSWORD"], dbname=db["NAME"], connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        if IN_CI:
            raise pytest.UsageError(f"CI=true and PostgreSQL is unreachable: {exc}") from exc
        pytest.exit(f"PostgreSQL is unreachable, skipping the PostgreSQL run: {exc}", returncode=0)


@pytest.fixture(autouse=True)
def _fresh_code_facts() -> Iterator[None]:
    graph.reset()
    CACHE.clear()
    yield
    graph.reset()
    CACHE.clear()


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
                "INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, %s)", row)


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path / 'site.sqlite3'}"
        return
    import psycopg

    name = f"hd_site_{uuid.uuid4().hex[:12]}"
    admin = dict(host="127.0.0.1", port=5432, user="postgres", dbname="postgres", autocommit=True)
    with psycopg.connect(**admin) as conn:  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(**admin) as conn:  # type: ignore[arg-type]
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def site(tmp_path: Path, database_url: str) -> Site:
    target = tmp_path / "site"
    shutil.copytree(ROOT / "example_project", target,
                    ignore=shutil.ignore_patterns("*.sqlite3", "__pycache__"))
    return Site(target, database_url)
