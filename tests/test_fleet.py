"""Fleet sharing through a real Redis: results keyed by release and database, cache
operations bounded by the deadline, one connection per process."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from django.test import Client
from django.test.utils import override_settings

from health_deep import fleet, memo
from health_deep.probe_cache import CACHE, ProbeCache

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

DEADLINE = 0.9


@contextlib.contextmanager
def sockets_opened() -> Iterator[list[int]]:
    """Counts the sockets this process opens to Redis (the server's own count would take in
    every other client of a shared server, another test run's included)."""
    from redis.connection import Connection

    opened = [0]
    original = Connection._connect

    def counted(self: Connection) -> object:
        opened[0] += 1
        return original(self)

    Connection._connect = counted  # type: ignore[method-assign]
    try:
        yield opened
    finally:
        Connection._connect = original  # type: ignore[method-assign]


def redis_cache(location: str) -> dict[str, object]:
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": location,
        "KEY_PREFIX": f"hd-test-{uuid.uuid4().hex[:8]}",
    }


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts connections and never answers (a hung Redis)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def scope_known_within(seconds: float) -> None:
    """The fleet scope is worked out in the background: wait for it as a later probe would."""
    stop = time.monotonic() + seconds
    while fleet.known_scope() is None:
        assert time.monotonic() < stop, "the fleet scope was never worked out"
        time.sleep(0.02)


def test_every_probe_answers_in_time_when_the_cache_never_answers(
    silent_server: int, caplog
) -> None:
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": redis_cache(f"redis://127.0.0.1:{silent_server}/0"),
    }
    with override_settings(CACHES=caches, HEALTH_DEEP={"CACHE_ALIAS": "shared", "CACHE_TTL": 0.2}):
        client = Client()
        assert client.get("/health/ready/").status_code == 200  # starts the fleet scope's warm-up
        scope_known_within(5.0)
        took = []
        for _ in range(8):
            started = time.monotonic()
            response = client.get("/health/ready/")
            took.append(time.monotonic() - started)
            assert response.status_code == 200
            time.sleep(0.1)  # half the probes find the local result past its TTL

    assert max(took) <= DEADLINE + 0.1, took
    warnings = [r for r in caplog.records if "shared cache" in r.getMessage()]
    assert len(warnings) == 1  # logged once, not once per probe


def test_a_warm_probe_opens_no_new_cache_connection() -> None:
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": redis_cache("redis://127.0.0.1:6379/9"),
    }
    with override_settings(CACHES=caches, HEALTH_DEEP={"CACHE_ALIAS": "shared", "CACHE_TTL": 0.05}):
        client = Client()
        client.get("/health/ready/")
        scope_known_within(5.0)
        for _ in range(5):
            client.get("/health/ready/")  # warm: code facts, the cache's connection pool
            time.sleep(0.06)  # past the TTL: each of these asks the shared cache
        with sockets_opened() as opened:
            for _ in range(30):
                assert client.get("/health/ready/").status_code == 200
                time.sleep(0.01)

    assert opened == [0]


def test_the_scope_follows_the_database_the_connection_reaches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.db import connection

    from health_deep import backends

    first = fleet.scope()
    vendor = backends.get(connection.vendor)
    real = vendor.identity
    monkeypatch.setattr(  # the same settings, another server behind them
        vendor, "identity", lambda conn, cursor: ("another server", *(real(conn, cursor) or ()))
    )
    memo.forget("fleet:")
    second = fleet.scope()
    monkeypatch.undo()
    memo.forget("fleet:")
    third = fleet.scope()

    assert first and second and first != second and third == first


def test_the_identity_is_read_from_the_connection_and_holds_no_credential() -> None:
    from django.conf import settings

    with_password = {
        alias: {**db, "PASSWORD": "s3cret-pw"} for alias, db in settings.DATABASES.items()
    }
    with pytest.warns(UserWarning), override_settings(DATABASES=with_password):
        parts = repr(fleet._databases())

    assert "s3cret-pw" not in parts
    assert all(len(digest) == 64 for _alias, digest in fleet._databases())


def test_instances_of_different_scopes_do_not_share(monkeypatch: pytest.MonkeyPatch) -> None:
    from health_deep.findings import Finding

    caches = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": redis_cache("redis://127.0.0.1:6379/9"),
    }
    calls: list[str] = []

    def compute(name: str) -> list[Finding]:
        calls.append(name)
        return [Finding(id="health_deep.E101", object=name, message="m")] if name == "new" else []

    with override_settings(CACHES=caches, HEALTH_DEEP={"CACHE_ALIAS": "shared"}):
        monkeypatch.setattr(fleet, "known_scope", lambda: "release-1")
        old = ProbeCache().get("k", lambda: compute("old"), ttl=5, deadline=1, timed_out=list)
        monkeypatch.setattr(fleet, "known_scope", lambda: "release-2")
        new = ProbeCache().get("k", lambda: compute("new"), ttl=5, deadline=1, timed_out=list)
        monkeypatch.setattr(fleet, "known_scope", lambda: "release-1")
        old_again = ProbeCache().get("k", lambda: compute("old"), ttl=5, deadline=1, timed_out=list)

    assert calls == ["old", "new"]  # the second release evaluated for itself
    assert (old.findings, [f.id for f in new.findings], old_again.findings) == (
        [],
        ["health_deep.E101"],
        [],
    )
    CACHE.clear()


def test_a_warm_probe_makes_no_cache_round_trip_while_its_results_are_fresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Shared results are kept in the process with their own age: within the TTL a probe is
    # served as with the local cache alone (before, every probe asked Redis once per check).
    # Redis's own counters are server-wide (other suites share the server): count the calls.
    from health_deep.probe_cache import FleetCache

    caches = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": redis_cache("redis://127.0.0.1:6379/9"),
    }
    calls: list[str] = []
    original = FleetCache._call.__func__  # type: ignore[attr-defined]

    def counted(cls: type, operation: str, *args: object, **kwargs: object) -> object:
        calls.append(operation)
        return original(cls, operation, *args, **kwargs)

    with override_settings(CACHES=caches, HEALTH_DEEP={"CACHE_ALIAS": "shared", "CACHE_TTL": 60}):
        monkeypatch.setattr(FleetCache, "_call", classmethod(counted))
        fleet.scope()  # as the warm-up thread works it out: a probe never does
        client = Client()
        assert client.get("/health/ready/").status_code == 200
        assert "set" in calls  # the first probe did share its results
        calls.clear()
        for _ in range(30):
            assert client.get("/health/ready/").status_code == 200

    assert calls == []


def test_a_result_another_instance_shared_is_used_with_its_age() -> None:
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": redis_cache("redis://127.0.0.1:6379/9"),
    }
    with override_settings(CACHES=caches, HEALTH_DEEP={"CACHE_ALIAS": "shared"}):
        fleet.scope()  # as the warm-up thread works it out: a probe never does
        instance_a, instance_b, calls = ProbeCache(), ProbeCache(), []

        def compute() -> list[object]:
            calls.append(1)
            return []

        instance_a.get("k", compute, ttl=5, deadline=1, timed_out=list)  # type: ignore[arg-type]
        time.sleep(0.2)
        answer = instance_b.get("k", compute, ttl=5, deadline=1, timed_out=list)  # type: ignore[arg-type]
        again = instance_b.peek("k", ttl=5)

    assert len(calls) == 1
    assert answer.age >= 0.2
    assert again is not None and again.age >= 0.2  # kept locally, not re-stamped
