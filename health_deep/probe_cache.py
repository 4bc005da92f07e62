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
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from health_deep import conf, dbguard, fleet, warmup
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


class _Evaluation:
    """One evaluation in flight: its thread's result, when it began querying, its connections."""

    def __init__(self, *, first: bool, deadline: float) -> None:
        self.future: Future[list[Finding]] = Future()
        self.started = time.monotonic()
        self.stop = self.started + deadline  # when the probe that started it stops waiting
        self.first = first  # no result, and no abandoned evaluation, for its key yet
        self.querying: float | None = None  # monotonic time it began querying
        self.line: dbguard.Line | None = None

    def overdue(self, config: conf.Config) -> bool:
        """Stuck on its databases: a statement a second past its own timeout (the server
        would have ended it), or querying for far longer than its statements may take."""
        if self.querying is None:
            return False
        if self.line is not None and self.line.overdue(grace=1.0 + config.statement_timeout):
            return True
        return time.monotonic() - self.querying > config.abandon_after


_current = threading.local()  # the evaluation the running thread works for


def time_left() -> float:
    """Seconds until the probe that started the running evaluation stops waiting (a check
    fits its own work, the smoke queries, into them); infinite outside an evaluation."""
    evaluation: _Evaluation | None = getattr(_current, "evaluation", None)
    return float("inf") if evaluation is None else evaluation.stop - time.monotonic()


def _says_timed_out(findings: Iterable[Finding]) -> bool:
    return any(f.id == TIMED_OUT for f in findings)


TIMED_OUT = "health_deep.E003"


class _Responsive:
    """While code facts are worked out (seconds of pure Python in a fresh process), the
    interpreter hands the GIL over more often, so the threads that serve requests (the probe
    waiting for its deadline, ``/health/live/``, the site's own) are not starved by them.
    Process-wide, so kept to that window and restored as found afterwards."""

    INTERVAL = 0.001  # seconds (CPython's default is 0.005)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._previous = 0.0

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            self._active += 1
            if self._active == 1:
                self._previous = sys.getswitchinterval()
                sys.setswitchinterval(min(self._previous, self.INTERVAL))
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
                if self._active == 0:
                    sys.setswitchinterval(self._previous)


_responsive = _Responsive()


class ProbeCache:
    """Per-process TTL cache with single-flight evaluation. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._results: dict[str, Result] = {}
        self._inflight: dict[str, _Evaluation] = {}
        self._abandoned: set[str] = set()  # keys whose evaluation was once given up
        self.evaluations = 0  # how many evaluations started: the benchmarks and tests count it
        self.abandoned = 0  # how many were given up as stuck

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
        """Under the lock: the result for ``key`` if it is younger than ``ttl``. A result
        that says the database did not answer in time is not kept: the next probe asks
        again (under load, serving it for a whole TTL made a passing slowness an outage)."""
        result = self._results.get(key)
        if result is None or result.age() >= ttl or _says_timed_out(result.findings):
            return None
        return Answer(list(result.findings), result.age(), took=result.took)

    def peek(self, key: str, *, ttl: float) -> Answer | None:
        """What :meth:`_known` gives, without waiting or evaluating (safe in an event loop).
        With fleet sharing too: a result fetched from the fleet is kept here with its own
        age, so a warm probe makes no cache round trip until it is older than the TTL."""
        with self._lock:
            return self._known(key, ttl)

    def out_of_time(
        self,
        key: str,
        timed_out: Callable[[], list[Finding]],
        starting: Callable[[], list[Finding]] | None = None,
    ) -> Answer:
        """For a probe at its deadline: the last result marked stale; with none, or one past
        the stale limit, ``starting()`` while the first evaluation of this process runs (in a
        fresh process every check works out its code facts at once, and one check's facts
        slow another's queries), else ``timed_out()`` (unknown is not healthy). A first
        evaluation stuck on its database is abandoned like any other, and the next one is
        not a first: a database that does not answer at start-up is E003 within seconds."""
        with self._lock:
            result = self._results.get(key)
            evaluation = self._inflight.get(key)
        if result is not None and result.age() < conf.get().stale_limit:
            return Answer(list(result.findings), result.age(), stale=True, took=result.took)
        if starting is not None and evaluation is not None and evaluation.first:
            return Answer(starting(), 0.0, stale=True)
        return Answer(timed_out(), 0.0 if result is None else result.age(), stale=True)

    def get(
        self,
        key: str,
        compute: Compute,
        *,
        ttl: float,
        deadline: float,
        timed_out: Callable[[], list[Finding]],
        prepare: Callable[[], object] | None = None,
        starting: Callable[[], list[Finding]] | None = None,
    ) -> Answer:
        """Findings for ``key`` no older than ``ttl``, within ``deadline`` seconds.

        ``prepare`` works out the code facts the evaluation needs (no database: its time is
        never taken for a stuck query). Until the first evaluation in this process is done,
        a probe at its deadline gets ``starting()`` rather than ``timed_out()``: not
        evaluated yet is not critical.
        """
        stop = time.monotonic() + max(0.0, deadline)
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
        stuck = None
        with self._lock:
            evaluation = self._inflight.get(key)
            if evaluation is not None and evaluation.overdue(conf.get()):
                stuck, evaluation = evaluation, None  # abandoned: a fresh one starts below
                del self._inflight[key]
                self._abandoned.add(key)
                self.abandoned += 1
            known = self._known(key, ttl)
            if known is not None and stuck is None:
                return known
            if evaluation is None:
                evaluation = self._start(key, compute, prepare, ttl, stop - time.monotonic())
        if stuck is not None:
            self._abandon(key, stuck)
        try:
            findings = evaluation.future.result(timeout=max(0.0, stop - time.monotonic()))
        except FutureTimeout:
            return self.out_of_time(key, timed_out, starting)
        with self._lock:
            result = self._results.get(key)
        took = result.took if result is not None and result.age() < ttl else 0.0
        return Answer(findings, 0.0, took=took)

    def give_way(self, *, until: float) -> None:
        """Wait, holding no lock and no GIL, for the other evaluations in flight to finish, at
        the latest until ``until`` (monotonic): for an elastic check (the smoke queries,
        which fit in whatever time they get), so its Python work does not slow the checks
        that cannot shrink (in a fresh process, all of them run at once)."""
        mine = getattr(_current, "evaluation", None)
        with self._lock:
            others = [e.future for e in self._inflight.values() if e is not mine]
        if others:
            wait(others, timeout=max(0.0, until - time.monotonic()))

    def _abandon(self, key: str, evaluation: _Evaluation) -> None:
        cut = evaluation.line.cut() if evaluation.line is not None else 0
        logger.warning(
            "health_deep: the %s evaluation is stuck on its database (no answer past the "
            "statement timeout); it is abandoned (%d connection(s) cut) and a fresh one starts "
            "on a new connection",
            key.split(":", 1)[0],
            cut,
        )

    def _start(
        self,
        key: str,
        compute: Compute,
        prepare: Callable[[], object] | None,
        ttl: float,
        deadline: float,
    ) -> _Evaluation:
        """Under the lock: one evaluation in a thread of its own (a stuck one holds only its
        own thread, never a pool's), with connections of its own."""
        self.evaluations += 1
        first = key not in self._results and key not in self._abandoned
        evaluation = _Evaluation(first=first, deadline=deadline)
        self._inflight[key] = evaluation
        thread = threading.Thread(
            target=self._run,
            args=(key, evaluation, compute, prepare, ttl),
            name=f"health_deep {key.split(':', 1)[0]}",
            daemon=True,
        )
        thread.start()
        return evaluation

    def _run(
        self,
        key: str,
        evaluation: _Evaluation,
        compute: Compute,
        prepare: Callable[[], object] | None,
        ttl: float,
    ) -> None:
        _current.evaluation = evaluation
        line = evaluation.line = dbguard.Line(seconds=conf.get().abandon_after)
        try:
            if prepare is not None:
                with _responsive(), contextlib.suppress(Exception):  # reported by evaluate
                    prepare()
            evaluation.querying = time.monotonic()
            findings = FleetCache.evaluate(key, ttl, compute)
        except BaseException as exc:
            self._finish(key, evaluation, None)
            evaluation.future.set_exception(exc)
            return
        finally:
            line.close()
            _current.evaluation = None
        self._finish(key, evaluation, findings)
        evaluation.future.set_result(findings)

    def _finish(self, key: str, evaluation: _Evaluation, findings: list[Finding] | None) -> None:
        with self._lock:
            if self._inflight.get(key) is not evaluation:
                return  # abandoned: a fresher evaluation owns the key
            del self._inflight[key]
            if findings is not None:
                took = time.monotonic() - evaluation.started
                self._results[key] = Result(tuple(findings), time.time(), took=took)

    def clear(self) -> None:
        """Forget every result (the tests' fixture, between tests)."""
        with self._lock:
            self._results.clear()
            self._inflight.clear()  # what is still running is discarded when it ends
            self._abandoned.clear()
            self.evaluations = 0
            self.abandoned = 0
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
        """The shared key, or None while the release's scope is not known yet: it is worked
        out in the background, never by a probe, and until then nothing is shared."""
        scope = fleet.known_scope()
        if scope is None:
            warmup.start_once()
            return None
        return f"health_deep:{kind}:{scope}:{key}"

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
        if not conf.get().cache_alias:
            return compute()
        lock_key, result_key = cls._key("lock", key), cls._key("result", key)
        if lock_key is None or result_key is None:
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
        if _says_timed_out(findings):
            return findings  # unknown here is not a verdict to hand the fleet
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
        # Another instance evaluates: its answer comes within a deadline or it is stuck,
        # and then this one evaluates itself.
        stop = time.monotonic() + min(ttl, conf.get().deadline)
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


@receiver(setting_changed, dispatch_uid="health_deep.probe_cache.setting_changed")
def _setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("HEALTH_DEEP", "CACHES"):
        FleetCache.forget()  # another cache, or another alias of it


CACHE = ProbeCache()
