"""A django-tenants site (shared ``customers`` in ``public``, ``notes`` in every tenant's
schema) on a real PostgreSQL: healthy is quiet; a tenant left behind by a failed
``migrate_schemas`` and a tenant whose schema was never made are named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.settings import BACKEND

pytestmark = [
    pytest.mark.subprocess,
    pytest.mark.skipif(BACKEND != "postgres", reason="django-tenants is PostgreSQL-only"),
]

ROOT = Path(__file__).resolve().parent.parent
TENANTS = 3
WSGI = "django.core.wsgi:get_wsgi_application()"  # gunicorn calls the factory


def psql(database: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(
        host=os.environ.get("PGHOST", "127.0.0.1"),
        port=os.environ.get("PGPORT", "5432"),
        user=os.environ.get("PGUSER", "postgres"),
        dbname=database,
        autocommit=True,
    ) as conn:
        for statement in statements:
            conn.execute(statement)


@pytest.fixture
def site() -> Iterator[dict[str, str]]:
    database = f"hd_tenants_{uuid.uuid4().hex[:8]}"
    psql("postgres", f'CREATE DATABASE "{database}"')
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings_tenants",
        "HEALTH_DEEP_TENANTS_DB": database,
        "PYTHONWARNINGS": "ignore",
    }
    try:
        for command in (
            [sys.executable, "-m", "django", "migrate_schemas", "--shared", "-v0"],
            [sys.executable, "-m", "tests.tenancy.make_tenants", str(TENANTS)],
        ):
            subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True)
        yield env
    finally:
        psql("postgres", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def check(env: dict[str, str]) -> tuple[int, list[dict]]:
    done = subprocess.run(
        [sys.executable, "-m", "django", "health_deep", "--format", "json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, json.loads(done.stdout)["findings"]


def test_a_healthy_tenant_site_passes_and_says_where_tenant_endpoints_live(site: dict) -> None:
    code, findings = check(site)

    assert code == 0, findings
    assert [f["id"] for f in findings if f["severity"] != "info"] == []
    [coverage] = [f for f in findings if f["id"] == "health_deep.I305"]
    [notes] = coverage["details"]["not_covered"]
    assert notes["endpoint"] == "/notes/ (notes)" and "tenant" in notes["reason"]


def test_a_tenant_behind_and_a_tenant_without_schema_are_named(site: dict) -> None:
    database = site["HEALTH_DEEP_TENANTS_DB"]
    psql(
        database,
        # migrate_schemas died before t2's notes: its row never written, its table never made
        "DELETE FROM t2.django_migrations WHERE app = 'notes'",
        "DROP TABLE t2.notes_note",
        "INSERT INTO customers_client (schema_name, name) VALUES ('t9', 'never migrated')",
    )

    code, findings = check(site)

    assert code == 1
    by_id = {f["id"]: f for f in findings if f["severity"] != "info"}
    assert set(by_id) == {"health_deep.E112", "health_deep.E114"}, findings
    behind, missing = by_id["health_deep.E112"], by_id["health_deep.E114"]
    assert behind["details"]["schemas"] == ["t2"]
    assert behind["details"]["unapplied"] == ["notes.0001_initial"]
    assert missing["details"]["schemas"] == ["t9"]
    assert behind["details"]["tenants"] == TENANTS + 1


def test_one_broken_tenant_fails_health_but_not_readiness(site: dict) -> None:
    import socket
    import time
    import urllib.error
    import urllib.request

    psql(site["HEALTH_DEEP_TENANTS_DB"], "DELETE FROM t2.django_migrations WHERE app = 'notes'")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "1", WSGI],
        env=site,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def get(path: str) -> tuple[int, str]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", headers={"Host": "public.localhost"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return 0, ""

    try:
        stop = time.monotonic() + 30
        while time.monotonic() < stop:  # until started, and past its first evaluation
            deep, body = get("/health/")
            if deep and "W005" not in body:
                break
            time.sleep(0.3)
        ready, _ = get("/health/ready/")
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert deep == 503 and "E112" in body  # monitors page, and the tenant is named
    assert ready == 200  # 1 of 4 tenants: the instances stay in the load balancer
