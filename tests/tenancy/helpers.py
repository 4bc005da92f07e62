"""What the schema-per-tenant tests share: a real PostgreSQL database per test, the command's
findings, and a real gunicorn asked with a tenant's Host header."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
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


@contextlib.contextmanager
def database(settings: str, *commands: list[str]) -> Iterator[dict[str, str]]:
    """A fresh database for the site ``settings`` describes, made by ``commands`` (run with
    this interpreter, in the repository); the environment that names it."""
    name = f"hd_tenants_{uuid.uuid4().hex[:8]}"
    psql("postgres", f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings,
        "HEALTH_DEEP_TENANTS_DB": name,
        "PYTHONWARNINGS": "ignore",
    }
    try:
        for command in commands:
            subprocess.run(
                [sys.executable, *command], env=env, cwd=ROOT, check=True, capture_output=True
            )
        yield env
    finally:
        psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def check(env: dict[str, str]) -> tuple[int, list[dict]]:
    """``manage.py health_deep --format json``: its exit code and findings."""
    done = subprocess.run(
        [sys.executable, "-m", "django", "health_deep", "--format", "json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, json.loads(done.stdout)["findings"]


def by_id(findings: list[dict]) -> dict[str, dict]:
    """The findings above info, by id (each test breaks things so that each id appears once)."""
    shown = [f for f in findings if f["severity"] != "info"]
    found = {f["id"]: f for f in shown}
    assert len(found) == len(shown), shown
    return found


def get(port: int, path: str, host: str) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


@contextlib.contextmanager
def gunicorn(env: dict[str, str]) -> Iterator[int]:
    """A real gunicorn worker serving the site; its port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "1", WSGI],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def until(port: int, host: str, ready: Callable[[str], bool], *, seconds: float = 60) -> None:
    """Until ``host``'s ``/health/`` answers with every check's verdict (W005 gone) and a
    body ``ready`` accepts: the smoke queries run in tenants' schemas in turn, as far as each
    probe's deadline allows (on a loaded host, maybe not all in the first one)."""
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        status, body = get(port, "/health/", host)
        if status and "W005" not in body and ready(body):
            return
        time.sleep(0.3)
    raise AssertionError(f"{host} never gave the verdict awaited")
