"""Probe-grade serving: evaluate once per TTL, single-flight, and answer within a deadline.

A load balancer probes every instance every few seconds, often from several places at once.
Each check's findings are kept for ``CACHE_TTL`` seconds. When they are due, one evaluation
runs in a worker thread; the probe that started it waits for it at most until its deadline,
then answers with the last result, marked with its age, or, with none yet, with a timed-out
finding. Probes arriving while it runs answer at once with the last result (marked stale),
or, with none yet, wait like the first. The evaluation goes on and fills the cache for
the next probe. So N concurrent probes cost one evaluation, and a slow database costs a probe
its deadline, never more.

With ``CACHE_ALIAS`` set, results are shared through that Django cache, so a fleet
evaluates once per TTL: one instance takes a short lock and evaluates, the others read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from django.db import connections

from health_deep import conf, fleet
from health_deep.findings import Finding

logger = logging.getLogger("health_deep")

Compute = Callable[[], list[Finding]]


@dataclasses.dataclass(frozen=True)
class Result:
    findings: tuple[Finding, ...]
    at: float  # time.time() when the evaluation finished
    took: float = 0.0  # seconds the evaluation took

    def age(self) -> float:
        return max(0.0, time.time() - self.at)


@dataclasses.dataclass(frozen=True)
class Answer:
    """What a probe gets: findings, how old they are, and whether they are the last known."""

    findings: list[Finding]
    age: float
    stale: bool = False
    took: float = 0.0  # seconds the evaluation behind these findings took


def _evaluate(compute: Compute) -> list[Finding]:
    try:
        return compute()
    finally:
        # Worker threads open their own connections: close them, or every evaluation leaks one.
        for connection in connections.all(initialized_only=True):
            connection.close()


class ProbeCache:
    """Per-process TTL cache with single-flight evaluation. Thread-safe."""

    def __init__(self) -> None:
        # Reentrant: a future that is already done runs its callback (which takes this lock)
        # in the thread that registers it, and that thread holds the lock.
        self._lock = threading.RLock()
        self._results: dict[str, Result] = {}
        self._inflight: dict[str, Future[list[Finding]]] = {}
        self._executor: ThreadPoolExecutor | None = None  # made on first use, not at import
        self.evaluations = 0  # how many evaluations started: the benchmarks and tests count it

    def _known(self, key: str, ttl: float) -> Answer | None:
        """Under the lock: a fresh result, or, while another probe waits for its evaluation,
        the last one marked stale (so a slow database holds one server thread, not all) as
        long as it is younger than the stale limit."""
        fresh = self._fresh(key, ttl)
        if fresh is not None:
            return fresh
        result = self._results.get(key)
        if result is None:
            return None
        if key in self._inflight and result.age() < conf.get().stale_limit:
            return Answer(list(result.findings), result.age(), stale=True, took=result.took)
        return None

    def _fresh(self, key: str, ttl: float) -> Answer | None:
        """Under the lock: the result for ``key`` if it is younger than ``ttl``."""
        result = self._results.get(key)
        if result is None or result.age() >= ttl:
            return None
        return Answer(list(result.findings), result.age(), took=result.took)

    def peek(self, key: str, *, ttl: float) -> Answer | None:
        """What :meth:`_known` gives, without waiting or evaluating (safe in an event loop).
        With fleet sharing too: a result fetched from the fleet is kept here with its own
        age, so a warm probe makes no cache round trip until it is older than the TTL."""
        with self._lock:
            return self._known(key, ttl)

    def out_of_time(self, key: str, timed_out: Callable[[], list[Finding]]) -> Answer:
        """For a probe at its deadline: the last result marked stale, or ``timed_out()`` when
        there is none or it is past the stale limit (unknown is not healthy)."""
        result = self._results.get(key)
        if result is None or result.age() >= conf.get().stale_limit:
            return Answer(timed_out(), 0.0 if result is None else result.age(), stale=True)
        return Answer(list(result.findings), result.age(), stale=True, took=result.took)

    def get(
        self,
        key: str,
        compute: Compute,
        *,
        ttl: float,
        deadline: float,
        timed_out: Callable[[], list[Finding]],
    ) -> Answer:
        """Findings for ``key`` no older than ``ttl``, within ``deadline`` seconds."""
        with self._lock:
            fresh = self._fresh(key, ttl)
        if fresh is not None:
            return fresh
        shared = FleetCache.get(key, ttl)
        if shared is not None:
            with self._lock:
                mine = self._results.get(key)
                if mine is None or mine.at < shared.at:
                    self._results[key] = shared
            return Answer(list(shared.findings), shared.age(), took=shared.took)
        with self._lock:
            known = self._known(key, ttl)
            if known is not None:
                return known
            future = self._inflight.get(key)
            if future is None:
                future = self._start(key, compute, ttl)
        try:
            findings = future.result(timeout=max(0.0, deadline))
        except FutureTimeout:
            return self.out_of_time(key, timed_out)
        with self._lock:
            result = self._results.get(key)
        took = result.took if result is not None and result.age() < ttl else 0.0
        return Answer(findings, 0.0, took=took)

    @property
    def _pool(self) -> ThreadPoolExecutor:
        # At most one evaluation per check is in flight (single-flight): enough threads for
        # every check of several aliases, so a slow one never queues another behind it.
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="health_deep")
        return self._executor

    def _start(self, key: str, compute: Compute, ttl: float) -> Future[list[Finding]]:
        self.evaluations += 1
        started = time.monotonic()
        future = self._pool.submit(FleetCache.evaluate, key, ttl, lambda: _evaluate(compute))
        self._inflight[key] = future

        def done(f: Future[list[Finding]]) -> None:
            with self._lock:
                self._inflight.pop(key, None)
                if f.exception() is None:
                    self._results[key] = Result(
                        tuple(f.result()), time.time(), took=time.monotonic() - started
                    )

        future.add_done_callback(done)
        return future

    def clear(self) -> None:
        """Forget every result (the tests' fixture, between tests)."""
        with self._lock:
            self._results.clear()
            self.evaluations = 0
        FleetCache.forget()

    @staticmethod
    def forget_shared() -> None:
        """Forget the shared cache's connection and pause (its settings changed)."""
        FleetCache.forget()


class FleetCache:
    """The optional fleet-wide layer over a Django cache (``HEALTH_DEEP['CACHE_ALIAS']``).

    A shared result is reused only by an instance that runs the same code against the same
    database: keys carry :func:`fleet.scope`. Every cache operation runs in one thread of its
    own, on one cache object (so one connection pool: no new connection per probe), and is
    bounded: a cache that does not answer in time is logged once and left alone for a while,
    which costs sharing, never the answer.
    """

    OPERATION_TIMEOUT = 0.25  # seconds one cache operation may take
    PAUSE = 30.0  # seconds sharing stays off after the cache failed to answer

    _lock = threading.Lock()
    _pool: ThreadPoolExecutor | None = None
    _backend: Any = None
    _backend_alias: str | None = None
    _paused_until = 0.0

    @classmethod
    def _call(cls, operation: str, *args: Any, **kwargs: Any) -> Any:
        """``cache.<operation>(...)`` within the operation timeout; raises ``_Unavailable``."""
        alias = conf.get().cache_alias
        if not alias or time.monotonic() < cls._paused_until:
            raise _Unavailable
        with cls._lock:
            if cls._pool is None:
                cls._pool = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="health_deep-cache"
                )
            if cls._backend is None or cls._backend_alias != alias:
                from django.core.cache import caches

                # Its own backend object, used only from the one cache thread: one
                # connection pool for the process instead of one per serving thread.
                cls._backend, cls._backend_alias = caches.create_connection(alias), alias
            backend, pool = cls._backend, cls._pool
        future = pool.submit(getattr(backend, operation), *args, **kwargs)
        try:
            return future.result(timeout=cls.OPERATION_TIMEOUT)
        except Exception as exc:
            cls._pause(alias, exc)
            raise _Unavailable from exc

    @classmethod
    def _pause(cls, alias: str, exc: BaseException) -> None:
        with cls._lock:
            first = cls._paused_until <= time.monotonic()
            cls._paused_until = time.monotonic() + cls.PAUSE
        if first:  # once per outage, not once per probe
            what = (
                f"did not answer within {cls.OPERATION_TIMEOUT:g} s"
                if isinstance(exc, FutureTimeout)
                else f"failed ({type(exc).__name__})"
            )
            logger.warning(
                "health_deep: the shared cache %r %s; results are not shared for %g s",
                alias,
                what,
                cls.PAUSE,
            )

    @staticmethod
    def _key(kind: str, key: str) -> str | None:
        scope = fleet.scope()
        return None if scope is None else f"health_deep:{kind}:{scope}:{key}"

    @classmethod
    def get(cls, key: str, ttl: float) -> Result | None:
        if not conf.get().cache_alias:
            return None
        shared_key = cls._key("result", key)
        if shared_key is None:
            return None
        try:
            result = cls._call("get", shared_key)
        except _Unavailable:
            return None
        return result if isinstance(result, Result) and result.age() < ttl else None

    @classmethod
    def evaluate(cls, key: str, ttl: float, compute: Compute) -> list[Finding]:
        lock_key, result_key = cls._key("lock", key), cls._key("result", key)
        if not conf.get().cache_alias or lock_key is None or result_key is None:
            return compute()
        try:
            # One instance of the fleet evaluates; the lock expires by itself.
            if not cls._call("add", lock_key, 1, timeout=max(1, int(ttl))):
                waited = cls._wait(result_key, ttl)
                if waited is not None:
                    return list(waited.findings)
        except _Unavailable:
            return compute()
        started = time.monotonic()
        findings = compute()
        with contextlib.suppress(_Unavailable):
            cls._call(
                "set",
                result_key,
                Result(tuple(findings), time.time(), took=time.monotonic() - started),
                timeout=max(1, int(ttl * 2)),
            )
        return findings

    @classmethod
    def _wait(cls, result_key: str, ttl: float) -> Result | None:
        stop = time.monotonic() + ttl
        while time.monotonic() < stop:
            result = cls._call("get", result_key)
            if isinstance(result, Result) and result.age() < ttl:
                return result
            time.sleep(0.05)
        return None

    @classmethod
    def forget(cls) -> None:
        """Drop the cache object and the pause (tests, and a changed CACHE_ALIAS)."""
        with cls._lock:
            cls._backend, cls._backend_alias, cls._paused_until = None, None, 0.0


class _Unavailable(Exception):
    """The shared cache is not configured, paused, slow or failing: evaluate locally."""


CACHE = ProbeCache()
