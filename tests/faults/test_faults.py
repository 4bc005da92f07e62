"""The fault and load suite: the example project under gunicorn and uvicorn on a private
PostgreSQL server, driven over real HTTP on loopback.

Run with ``make faults`` (CI runs it; ``make test`` leaves it out: about two minutes, one of them
holding a lock for 30 s). Each scenario records a row (answered within the deadline, statuses,
p99, connections before/after); the table is printed at the end and written to
``$FAULT_REPORT`` when set. The last test checks that no probe wrote anything.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.cluster import Cluster
from tests.faults.server import TOKEN, Answer, Server, free_port, get, hammer, manage, site_env
from tests.locks import held_elsewhere

pytestmark = pytest.mark.faults

TTL = 2.0  # CACHE_TTL of the served sites: evaluations come often enough to see faults
DEADLINE = 0.9  # health_deep's default request deadline
# The view's own time (Server-Timing) may pass the deadline by the rendering, never by a wait.
IN_TIME = DEADLINE + 0.1
AUTH = {"X-Health-Token": TOKEN, "Accept": "application/json"}
ROWS: list[dict[str, Any]] = []


def record(
    scenario: str, answers: list[Answer], *, before: int, after: int, note: str = ""
) -> dict[str, Any]:
    in_time = sum(a.answered_in <= IN_TIME for a in answers)
    latencies = sorted(a.seconds for a in answers)
    server = sorted(a.server for a in answers if a.server is not None)
    row = {
        "scenario": scenario,
        "in_time": f"{in_time}/{len(answers)}",
        "server_max_ms": round(server[-1] * 1000, 1) if server else None,
        "statuses": dict(sorted(collections.Counter(a.status for a in answers).items())),
        "client_p99_ms": round(
            latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000, 1
        )
        if latencies
        else None,
        "connections": f"{before} -> {after}",
        "note": note,
    }
    ROWS.append(row)
    return row


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    width = max((len(r["scenario"]) for r in ROWS), default=10)
    print("\n\nfault suite")
    for row in ROWS:
        print(
            f"{row['scenario']:{width}}  in time {row['in_time']:>9}  {row['statuses']}  "
            f"server max {row['server_max_ms']} ms  client p99 {row['client_p99_ms']} ms  "
            f"connections {row['connections']}  {row['note']}"
        )
    if os.environ.get("FAULT_REPORT"):
        Path(os.environ["FAULT_REPORT"]).write_text(json.dumps(ROWS, indent=2))


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    server = Cluster(port=free_port())
    try:
        server.init()
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="module")
def site(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The example project migrated onto the private server, with a few real rows."""
    env = site_env(cluster.url, FAULT_CACHE_TTL=str(TTL))
    manage(env, "migrate", "--noinput")
    with cluster.connect() as conn:
        conn.execute(
            "INSERT INTO integrations_integration "
            "(name, base_url, enabled, created_at, settings) "
            "VALUES ('crm', 'https://crm.example', true, now(), '')"
        )
        conn.execute(
            "INSERT INTO integrations_webhook (integration_id, event, target) "
            "SELECT id, 'created', 'https://crm.example/hook' "
            "FROM integrations_integration"
        )
    return {"env": env, "logs": tmp_path_factory.mktemp("logs"), "snapshot": snapshot(cluster)}


def snapshot(cluster: Cluster) -> dict[str, Any]:
    """Row counts and write counters of every table, and the ledger's content."""
    with cluster.connect() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT relname FROM pg_stat_user_tables ORDER BY relname"
            ).fetchall()
        ]
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        conn.execute("SELECT pg_stat_clear_snapshot()")
        writes = dict(
            conn.execute(
                "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables"
            ).fetchall()
        )
        ledger = conn.execute("SELECT * FROM health_deep_ledger ORDER BY 1").fetchall()
    return {"counts": counts, "writes": writes, "ledger": ledger}


@contextlib.contextmanager
def serving(kind: str, site: dict[str, Any], **env: str) -> Iterator[Server]:
    server = Server(kind, {**site["env"], **env}, site["logs"] / f"{kind}-{time.time()}.log")
    try:
        yield server
    finally:
        server.stop()


class Sampler:
    """The highest backend count seen while a block runs (sampled every 50 ms)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster, self.peak, self._stop = cluster, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            with contextlib.suppress(Exception):
                self.peak = max(self.peak, self.cluster.backends())

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def settle(cluster: Cluster, *, above: int = 0, timeout: float = 10) -> int:
    """The backend count once connections of finished requests have gone."""
    stop = time.monotonic() + timeout
    count = cluster.backends()
    while count > above and time.monotonic() < stop:
        time.sleep(0.2)
        count = cluster.backends()
    return count


def probe_for(
    port: int, seconds: float, *, every: float = 0.2, path: str = "/health/ready/"
) -> list[Answer]:
    answers = []
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        answers.append(get(port, path, headers=AUTH, timeout=10))
        time.sleep(every)
    return answers


def ids(answer: Answer) -> set[str]:
    return set(re.findall(r"health_deep\.[EWI]\d{3}", answer.body.decode()))


# -- load ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["gunicorn", "uvicorn"])
def test_load_200_concurrent_probes(kind: str, cluster: Cluster, site: dict[str, Any]) -> None:
    with serving(kind, site) as server:
        before = settle(cluster)
        time.sleep(TTL + 0.1)
        start = cluster.rollbacks()
        get(server.port, "/health/ready/")  # one worker evaluates every check once
        time.sleep(0.5)
        per_evaluation = max(1, cluster.rollbacks() - start)
        time.sleep(TTL + 0.1)
        start = cluster.rollbacks()
        with Sampler(cluster) as sampler:
            load = hammer(server.port, "/health/ready/", total=3000, concurrency=200)
        evaluations = (cluster.rollbacks() - start) / per_evaluation
        after = settle(cluster, above=before)

    answers = load.answers
    # Two workers, each re-evaluating at most once per TTL while the load lasts.
    bound = 2 * (load.seconds / TTL + 2)
    record(
        f"load {kind}: 3000 x /health/ready/ at 200 concurrency",
        answers,
        before=before,
        after=after,
        note=f"p50 {load.p50 * 1000:.1f} ms, {load.total / load.seconds:.0f} "
        f"req/s, evaluations {evaluations:.1f} (bound {bound:.0f}), peak backends "
        f"{sampler.peak}",
    )
    assert not load.errors, load.errors
    assert set(load.statuses) == {200}, load.statuses
    assert load.total == 3000
    assert all(a.answered_in <= IN_TIME for a in answers)
    assert evaluations <= bound
    assert after <= before
    assert sampler.peak <= 2 * 8 + 4  # at most one per server thread, never one per request


# -- faults ----------------------------------------------------------------------------------


def test_postgres_stopped_then_restarted(cluster: Cluster, site: dict[str, Any]) -> None:
    with serving("gunicorn", site) as server:
        pid = server.process.pid
        before = settle(cluster)
        healthy = probe_for(server.port, 1.0)
        cluster.stop()
        try:
            down = probe_for(server.port, TTL + 4)
        finally:
            cluster.start()
        restarted_at = time.monotonic()
        up: list[Answer] = []
        while time.monotonic() - restarted_at < 20:
            up.append(get(server.port, "/health/ready/", headers=AUTH))
            if up[-1].status == 200:
                break
            time.sleep(0.2)
        recovered = time.monotonic() - restarted_at
        alive = server.process.poll() is None and server.process.pid == pid
        after = settle(cluster, above=before)

    first_503 = next(i for i, a in enumerate(down) if a.status == 503)
    reached_503 = sum(a.seconds + 0.2 for a in down[: first_503 + 1])
    record(
        "PostgreSQL stopped, then restarted (gunicorn)",
        healthy + down + up,
        before=before,
        after=after,
        note=f"503 {reached_503:.1f} s after the stop ({sorted(ids(down[-1]))}), "
        f"200 again {recovered:.1f} s after the restart, same server process",
    )
    assert {a.status for a in healthy} == {200}
    assert all(a.answered_in <= IN_TIME for a in healthy + down + up)
    assert down[-1].status == 503
    assert "health_deep.E002" in ids(down[-1]) and "health_deep.E301" not in ids(down[-1])
    assert reached_503 <= TTL + DEADLINE + 1
    assert up[-1].status == 200 and recovered <= TTL + 5
    assert alive


def test_a_migration_holding_access_exclusive_for_30_seconds(
    cluster: Cluster, site: dict[str, Any]
) -> None:
    with serving("gunicorn", site) as server:
        before = settle(cluster)
        with held_elsewhere(cluster.locking("integrations_integration")):
            answers = probe_for(server.port, 30, every=0.5)
        after = settle(cluster, above=before)

    found = set().union(*(ids(a) for a in answers if a.status == 503))
    record(
        "ACCESS EXCLUSIVE on integrations_integration for 30 s (gunicorn)",
        answers,
        before=before,
        after=after,
        note=f"findings {sorted(found)}",
    )
    assert all(a.answered_in <= IN_TIME for a in answers)
    assert {a.status for a in answers} <= {200, 503}
    assert "health_deep.E302" in found  # the endpoints' queries waited: named, not hung


def test_a_slow_smoke_query_is_cut_at_the_deadline(cluster: Cluster, site: dict[str, Any]) -> None:
    with serving("gunicorn", site, FAULT_SLOW_SMOKE="1") as server:
        before = settle(cluster)
        answers = probe_for(server.port, 6, every=0.3)
        time.sleep(0.5)
        with cluster.connect() as conn:
            sleeping = conn.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE query LIKE '%pg_sleep(5)%' "
                "AND pid <> pg_backend_pid()"
            ).fetchone()[0]
        after = settle(cluster, above=before)

    found = set().union(*(ids(a) for a in answers))
    record(
        "smoke query running pg_sleep(5) (gunicorn)",
        answers,
        before=before,
        after=after,
        note=f"findings {sorted(found)}, sleeping queries left on the server: {sleeping}",
    )
    assert all(a.answered_in <= IN_TIME for a in answers)
    assert {a.status for a in answers} == {503}
    assert "health_deep.E302" in found
    assert sleeping == 0  # statement_timeout ended it on the server too


def test_connection_refused_at_startup(cluster: Cluster, site: dict[str, Any]) -> None:
    closed = f"postgres://postgres@127.0.0.1:{free_port()}/faults"
    with serving("gunicorn", {**site, "env": {**site["env"], "DATABASE_URL": closed}}) as server:
        live = [get(server.port, "/health/live/") for _ in range(5)]
        ready = probe_for(server.port, 2, every=0.2)
        running = server.process.poll() is None

    found = set().union(*(ids(a) for a in ready))
    record(
        "connection refused from the start (gunicorn)",
        live + ready,
        before=0,
        after=0,
        note=f"live {sorted({a.status for a in live})}, findings {sorted(found)}",
    )
    assert {a.status for a in live} == {200}
    assert {a.status for a in ready} == {503}
    assert all(a.answered_in <= IN_TIME for a in live + ready)
    assert "health_deep.E002" in found
    assert "health_deep.E301" not in found  # one E002 naming the endpoints, not one per query
    assert running


@pytest.mark.parametrize("kind", ["gunicorn", "uvicorn"])
def test_statement_timeout_storm(kind: str, cluster: Cluster, site: dict[str, Any]) -> None:
    # Every table the probe reads is locked: each evaluation's queries hit lock_timeout, while
    # 200 anonymous callers (load balancers send no token) ask at once.
    with serving(kind, site, FAULT_CACHE_TTL="0.2") as server:
        before = settle(cluster)
        tables = (
            "django_migrations",
            "health_deep_ledger",
            "integrations_integration",
            "integrations_webhook",
        )
        with held_elsewhere(cluster.locking(*tables)), Sampler(cluster) as sampler:
            load = hammer(server.port, "/health/ready/", total=2000, concurrency=200)
        after = settle(cluster, above=before)

    answers = load.answers
    record(
        f"statement-timeout storm, 2000 at 200 concurrency ({kind})",
        answers,
        before=before,
        after=after,
        note=f"p50 {load.p50 * 1000:.1f} ms, peak backends {sampler.peak}",
    )
    assert not load.errors, load.errors
    assert set(load.statuses) == {503}
    late = [a.answered_in for a in answers if a.answered_in > IN_TIME]
    if kind == "gunicorn":
        assert not late, late
    else:
        # One event loop per uvicorn worker parses, routes and answers ~100 of the callers at
        # once; on this 2-core machine, shared with the other worker and the 200 caller
        # threads, it runs a probe's continuation late after health_deep's wait has ended
        # (the wait itself is bounded by the deadline in a thread). The share late and the
        # worst case are recorded in the report; what must hold is that nothing hangs.
        assert max(late, default=0) < 3 * DEADLINE, late
    assert after <= before
    assert sampler.peak <= 2 * 8 * 4 + 4  # bounded by threads x checks, not by callers


def test_probe_by_ip_with_a_host_not_allowed(cluster: Cluster, site: dict[str, Any]) -> None:
    with serving("gunicorn", site) as plain:
        refused = get(plain.port, "/health/ready/", headers={"Host": "10.0.0.7"})
    with serving("gunicorn", site, FAULT_PROBE_HOSTS="1") as relaxed:
        answered = get(relaxed.port, "/health/ready/", headers={"Host": "10.0.0.7"})
        other = get(relaxed.port, "/api/ping/", headers={"Host": "10.0.0.7"})

    record(
        "Host 10.0.0.7 not in ALLOWED_HOSTS: default / ProbeHostMiddleware",
        [refused, answered],
        before=0,
        after=0,
        note=f"default {refused.status}, with the middleware {answered.status} "
        f"(other URLs {other.status})",
    )
    assert refused.status == 400
    assert answered.status == 200
    assert other.status == 400


# -- last: nothing written -------------------------------------------------------------------


def test_no_probe_wrote_anything(cluster: Cluster, site: dict[str, Any]) -> None:
    now = snapshot(cluster)

    assert now["counts"] == site["snapshot"]["counts"]
    assert now["ledger"] == site["snapshot"]["ledger"]
    assert now["writes"] == site["snapshot"]["writes"]  # not one row inserted/updated/deleted
