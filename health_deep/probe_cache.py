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
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from django.db import connections

from health_deep import conf
from health_deep.findings import Finding

Compute = Callable[[], list[Finding]]


@dataclasses.dataclass(frozen=True)
class Result:
    findings: tuple[Finding, ...]
    at: float  # time.time() when the evaluation finished

    def age(self) -> float:
        return max(0.0, time.time() - self.at)


@dataclasses.dataclass(frozen=True)
class Answer:
    """What a probe gets: findings, how old they are, and whether they are the last known."""

    findings: list[Finding]
    age: float
    stale: bool = False


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
        # At most one evaluation per check is in flight (single-flight): enough threads for
        # every check of several aliases, so a slow one never queues another behind it.
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="health_deep")
        self.evaluations = 0  # how many evaluations started: the benchmarks and tests count it

    def _known(self, key: str, ttl: float) -> Answer | None:
        """Under the lock: a fresh result, or, while another probe waits for its evaluation,
        the last one marked stale (so a slow database holds one server thread, not all) as
        long as it is younger than the stale limit."""
        result = self._results.get(key)
        if result is None:
            return None
        if result.age() < ttl:
            return Answer(list(result.findings), result.age())
        if key in self._inflight and result.age() < conf.get().stale_limit:
            return Answer(list(result.findings), result.age(), stale=True)
        return None

    def peek(self, key: str, *, ttl: float) -> Answer | None:
        """What :meth:`_known` gives, without waiting or evaluating (safe in an event loop)."""
        if conf.get().cache_alias:
            return None
        with self._lock:
            return self._known(key, ttl)

    def out_of_time(self, key: str, timed_out: Callable[[], list[Finding]]) -> Answer:
        """For a probe at its deadline: the last result marked stale, or ``timed_out()`` when
        there is none or it is past the stale limit (unknown is not healthy)."""
        result = self._results.get(key)
        if result is None or result.age() >= conf.get().stale_limit:
            return Answer(timed_out(), 0.0 if result is None else result.age(), stale=True)
        return Answer(list(result.findings), result.age(), stale=True)

    def get(self, key: str, compute: Compute, *, ttl: float, deadline: float,
            timed_out: Callable[[], list[Finding]]) -> Answer:
        """Findings for ``key`` no older than ``ttl``, within ``deadline`` seconds."""
        shared = _Shared.get(key, ttl)
        if shared is not None:
            return Answer(list(shared.findings), shared.age())
        with self._lock:
            known = self._known(key, ttl)
            if known is not None:
                return known
            future = self._inflight.get(key)
            if future is None:
                future = self._start(key, compute, ttl)
        try:
            return Answer(future.result(timeout=max(0.0, deadline)), 0.0)
        except FutureTimeout:
            return self.out_of_time(key, timed_out)

    def _start(self, key: str, compute: Compute, ttl: float) -> Future[list[Finding]]:
        self.evaluations += 1
        future = self._pool.submit(_Shared.evaluate, key, ttl, lambda: _evaluate(compute))
        self._inflight[key] = future

        def done(f: Future[list[Finding]]) -> None:
            with self._lock:
                self._inflight.pop(key, None)
                if f.exception() is None:
                    self._results[key] = Result(tuple(f.result()), time.time())

        future.add_done_callback(done)
        return future

    def clear(self) -> None:
        with self._lock:
            self._results.clear()
            self.evaluations = 0


class _Shared:
    """The optional fleet-wide layer over a Django cache (``HEALTH_DEEP['CACHE_ALIAS']``)."""

    @staticmethod
    def _cache() -> Any:
        alias = conf.get().cache_alias
        if not alias:
            return None
        from django.core.cache import caches

        return caches[alias]

    @classmethod
    def get(cls, key: str, ttl: float) -> Result | None:
        cache = cls._cache()
        if cache is None:
            return None
        try:
            result = cache.get(f"health_deep:result:{key}")
        except Exception:  # a cache that is down must not fail the probe: evaluate locally
            return None
        return result if isinstance(result, Result) and result.age() < ttl else None

    @classmethod
    def evaluate(cls, key: str, ttl: float, compute: Compute) -> list[Finding]:
        cache = cls._cache()
        if cache is None:
            return compute()
        try:
            # One instance of the fleet evaluates; the lock expires by itself.
            if not cache.add(f"health_deep:lock:{key}", 1, timeout=max(1, int(ttl))):
                waited = cls._wait(cache, key, ttl)
                if waited is not None:
                    return list(waited.findings)
        except Exception:
            return compute()
        findings = compute()
        with contextlib.suppress(Exception):  # a cache that is down costs sharing, not the probe
            cache.set(f"health_deep:result:{key}", Result(tuple(findings), time.time()),
                      timeout=max(1, int(ttl * 2)))
        return findings

    @staticmethod
    def _wait(cache: Any, key: str, ttl: float) -> Result | None:
        stop = time.monotonic() + ttl
        while time.monotonic() < stop:
            result = cache.get(f"health_deep:result:{key}")
            if isinstance(result, Result) and result.age() < ttl:
                return result
            time.sleep(0.05)
        return None


CACHE = ProbeCache()
