"""Fresh and recycled workers, and connections that go silent: real gunicorn processes on a
generated site of hundreds of models, with health_deep's default settings.

A fresh process must tell the truth from its first probe (the code facts it needs come from
the store that ``migrate`` left, or are worked out while it says "starting"), a worker recycled
by ``--max-requests`` must never answer 503 on a healthy site, and an evaluation stuck on a
connection that went silent must be abandoned, leaving no transaction open on the server.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.server import ROOT, TOKEN, Answer, Server, get, site_env
from tests.proxy import SilentProxy

sys.path.insert(0, str(ROOT / "benchmarks"))
import scale
from generated_site import GeneratedSite

pytestmark = pytest.mark.faults

MODELS = 500
AUTH = {"X-Health-Token": TOKEN, "Accept": "application/json"}


class ServedSite(GeneratedSite):
    """The generated site (``benchmarks/generated_site.py``), served by real gunicorn."""

    @contextlib.contextmanager
    def serving(self, *, env: dict[str, str] | None = None, **options: Any) -> Iterator[Server]:
        log = self.path / f"gunicorn-{time.time()}.log"
        server = Server(
            "gunicorn",
            {**self.env, **(env or {})},
            log,
            app="coldwsgi:application",
            cwd=self.path,
            **options,
        )
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def big_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedSite]:
    path = tmp_path_factory.mktemp(f"cold-{request.param}")
    site = ServedSite(path, request.param, env=site_env(""))
    try:
        site.build(MODELS)
        yield site
    finally:
        site.destroy()


# The probe's answer time (DEADLINE 0.9 s) and room for a loaded 2-core host to write it: far
# below the 1.6-2 s of cold work a first probe once waited for.
WITHIN = 0.9 + 0.3


def verdict(answer: Answer) -> tuple[int, dict[str, str]]:
    body = json.loads(answer.body)
    return answer.status, {name: check["status"] for name, check in body["checks"].items()}


def test_the_first_probe_of_a_fresh_worker_tells_the_truth(big_site: ServedSite) -> None:
    answers = {}
    for path in ("/health/", "/health/ready/"):
        # A server of its own for each, so that each first probe is a process's first.
        with big_site.serving(workers=1, threads=4) as server:
            answers[path] = get(server.port, path, headers=AUTH, timeout=30)

    for path, answer in answers.items():
        status, checks = verdict(answer)
        assert status == 200, (path, answer.body[:2000])
        assert set(checks.values()) <= {"pass"}, (path, checks)
        assert answer.server is not None and answer.server <= WITHIN, answer.server


def test_a_cold_store_says_starting_and_never_503_on_health(
    big_site: ServedSite, tmp_path: Path
) -> None:
    empty = {"CODE_FACTS_DIR": str(tmp_path / "no-facts-yet")}  # a release never seen here
    with big_site.serving(workers=1, threads=4, env=empty) as server:
        first = get(server.port, "/health/", headers=AUTH, timeout=30)
        stop, later = time.monotonic() + 20, first
        while time.monotonic() < stop and set(verdict(later)[1].values()) != {"pass"}:
            time.sleep(0.3)
            later = get(server.port, "/health/", headers=AUTH, timeout=30)

    assert first.status == 200, first.body[:2000]
    assert first.server is not None and first.server <= WITHIN, first.server
    assert later.status == 200 and set(verdict(later)[1].values()) == {"pass"}, later.body


def test_recycled_workers_never_answer_503(big_site: ServedSite) -> None:
    if big_site.backend != "postgresql":
        pytest.skip("one recycling run, on PostgreSQL")
    answers: list[Answer] = []
    errors: list[str] = []
    stop = threading.Event()

    def traffic(port: int) -> None:  # ordinary requests, so workers recycle
        while not stop.is_set():
            with contextlib.suppress(OSError):
                get(port, "/ping/", timeout=10)
            time.sleep(0.02)

    with big_site.serving(
        workers=2, threads=1, worker_class="sync", extra=("--max-requests", "50")
    ) as server:
        thread = threading.Thread(target=traffic, args=(server.port,), daemon=True)
        thread.start()
        until = time.monotonic() + 30
        while time.monotonic() < until:
            try:
                answers.append(get(server.port, "/health/", headers=AUTH, timeout=10))
            except OSError as exc:
                errors.append(type(exc).__name__)
            time.sleep(0.2)
        stop.set()
        thread.join()
        log = server.log.name

    recycled = Path(log).read_text().count("Booting worker")
    false = [a.body[:300] for a in answers if a.status != 200]
    assert recycled > 4, "the run must recycle workers to mean anything"
    assert false == [], false
    assert errors == []
    assert len(answers) > 20  # a sync worker answers one request at a time


@pytest.fixture
def proxied_example(tmp_path: Path) -> Iterator[tuple[dict[str, str], SilentProxy, str]]:
    """The example project migrated on the shared PostgreSQL server, served through a proxy
    that can make one connection go silent."""
    name = f"hd_silent_{uuid.uuid4().hex[:10]}"
    scale._pg(f'CREATE DATABASE "{name}"')
    proxy = SilentProxy(("127.0.0.1", 5432))
    direct = site_env(f"postgres://postgres@127.0.0.1:5432/{name}")
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--noinput"],
        env=direct,
        check=True,
        capture_output=True,
        timeout=120,
    )
    env = site_env(f"postgres://postgres@127.0.0.1:{proxy.port}/{name}", FAULT_CACHE_TTL="1")
    try:
        yield env, proxy, name
    finally:
        proxy.close()
        scale._pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def idle_in_transaction(database: str) -> int:
    import psycopg

    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres") as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = %s AND state LIKE 'idle in transaction%%'",
            [database],
        ).fetchone()
    return int(row[0]) if row else 0


def test_a_connection_that_goes_silent_is_abandoned_and_leaves_no_transaction(
    proxied_example: tuple[dict[str, str], SilentProxy, str], tmp_path: Path
) -> None:
    env, proxy, database = proxied_example
    with contextlib.ExitStack() as stack:
        server = Server("gunicorn", env, tmp_path / "gunicorn.log", workers=1, threads=4)
        stack.callback(server.stop)
        assert get(server.port, "/health/ready/", headers=AUTH, timeout=10).status == 200
        # The migration check's next query never reaches the server, nor does its answer
        # come back: its evaluation waits on a socket that stays open.
        proxy.swallow(b"django_migrations")
        answers = []
        until = time.monotonic() + 25
        while time.monotonic() < until:
            answers.append(get(server.port, "/health/ready/", headers=AUTH, timeout=10))
            time.sleep(0.25)
        left_open = idle_in_transaction(database)

    assert proxy.swallowed == 1
    statuses = [a.status for a in answers]
    assert set(statuses[-8:]) == {200}, statuses  # a fresh evaluation on a fresh connection
    assert all(a.server is not None and a.server <= WITHIN for a in answers)
    assert left_open == 0  # the server ended the stuck transaction (idle timeout)
