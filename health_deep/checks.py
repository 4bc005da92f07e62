"""Thin django-health-check adapters: a health_deep check, served through the probe cache.

django-health-check runs each check's ``run()`` in a worker thread. Here ``run()`` asks the
probe cache for findings no older than the TTL (one evaluation for any number of concurrent
probes), waits at most the request deadline, keeps the findings for the view, and raises
the django-health-check exception that matches the worst of them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import time
import timeit
from concurrent.futures import Executor

from health_check.base import HealthCheck, HealthCheckResult
from health_check.exceptions import HealthCheckException, ServiceUnavailable, ServiceWarning

from health_deep import conf, memo, probe_cache, runner
from health_deep.findings import REGISTRY, Finding, Severity, summary
from health_deep.probe_cache import CACHE, Answer
from health_deep.tenants import scope

logger = logging.getLogger("health_deep")


def raise_for(findings: list[Finding]) -> None:
    """Raise the django-health-check exception that matches the worst finding."""
    critical = [f for f in findings if f.severity is Severity.CRITICAL]
    if critical:
        raise ServiceUnavailable(summary(critical))
    warnings = [f for f in findings if f.severity is Severity.WARNING]
    if warnings:
        raise ServiceWarning(summary(warnings))


@dataclasses.dataclass
class ServedCheck(HealthCheck):
    """Shared plumbing: cache key, evaluation, and what the view reads back."""

    findings: list[Finding] = dataclasses.field(
        default_factory=list, init=False, repr=False, compare=False
    )
    age: float = dataclasses.field(default=0.0, init=False, repr=False, compare=False)
    stale: bool = dataclasses.field(default=False, init=False, repr=False, compare=False)
    took: float = dataclasses.field(default=0.0, init=False, repr=False, compare=False)
    # perf_counter() when the request arrived, set by the view; None: when run() is called
    request_started: float | None = dataclasses.field(
        default=None, init=False, repr=False, compare=False
    )
    # The tenant schema whose host the request came to (the view sets it): the findings are
    # that tenant's and the shared schema's. One evaluation serves every host.
    tenant_schema: str | None = dataclasses.field(
        default=None, init=False, repr=False, compare=False
    )

    name = "check"
    ANSWER_TIME = 0.05  # seconds kept from the deadline to render and send the answer

    def key(self) -> str:
        return f"{self.name}:{self!r}"

    def evaluate(self) -> list[Finding]:
        raise NotImplementedError

    def prepare(self) -> None:
        """Work out the code facts :meth:`evaluate` needs, with no database (its time never
        counts as waiting on the database). Until the first evaluation in a process is done,
        a probe at its deadline hears "starting" (W005), not "unknown" (E003)."""

    def alias_for_timeout(self) -> str:
        return getattr(self, "alias", "")

    def _timed_out(self) -> list[Finding]:
        return [runner.deadline_finding(self.alias_for_timeout(), self.name, conf.get().deadline)]

    def _starting(self) -> list[Finding]:
        return [runner.starting_finding(self.alias_for_timeout(), self.name)]

    def _settle(self, answer: Answer) -> None:
        self.findings = scope.seen_from(answer.findings, self.tenant_schema)
        self.age, self.stale = answer.age, answer.stale
        self.took = answer.took
        raise_for(self.findings)

    async def run(self) -> None:
        # A coroutine, so django-health-check awaits it in the event loop: a cached answer
        # costs no thread hop. Waiting for an evaluation happens in a worker thread.
        config = conf.get()
        answer = CACHE.peek(self.key(), ttl=config.cache_ttl)
        if answer is None:
            # The deadline counts from when the request arrived (the view says when), less
            # the time to answer: a busy process must not spend it before the wait begins.
            began = self.request_started or time.perf_counter()
            left = config.deadline - self.ANSWER_TIME - (time.perf_counter() - began)
            waiting = asyncio.get_running_loop().run_in_executor(
                None,
                functools.partial(
                    CACHE.get,
                    self.key(),
                    self.evaluate,
                    ttl=config.cache_ttl,
                    deadline=max(0.0, left),
                    timed_out=self._timed_out,
                    prepare=self.prepare,
                    starting=self._starting,
                ),
            )
            try:
                # The deadline holds even when the loop's thread pool is busy (under ASGI
                # many probes share it): past it, answer with what is known.
                answer = await asyncio.wait_for(waiting, timeout=max(0.0, left) + 0.05)
            except TimeoutError:
                answer = CACHE.out_of_time(self.key(), self._timed_out, self._starting)
        self._settle(answer)

    def cached_result(self) -> HealthCheckResult | None:
        """The result from the probe cache alone, with no event loop and no waiting; None
        when an evaluation is needed (the caller then takes :meth:`get_result`)."""
        started = timeit.default_timer()
        answer = CACHE.peek(self.key(), ttl=conf.get().cache_ttl)
        if answer is None:
            return None
        error: HealthCheckException | None = None
        try:
            self._settle(answer)
        except HealthCheckException as exc:
            error = exc
        return self._result(error, started)

    async def get_result(self, executor: Executor | None = None) -> HealthCheckResult:
        """As django-health-check's, without its log record (and traceback) for every probe
        of a check that does not pass: a finding is logged once, when it appears or goes."""
        started = timeit.default_timer()
        error: HealthCheckException | None = None
        try:
            await self.run()
        except HealthCheckException as exc:
            error = exc
        except asyncio.CancelledError:
            raise
        except Exception:  # health_deep's own bug: the one case that deserves a traceback
            logger.exception("health_deep: the %r check failed unexpectedly", self)
            error = HealthCheckException("unknown error")
        return self._result(error, started)

    def _result(self, error: HealthCheckException | None, started: float) -> HealthCheckResult:
        log_transition(repr(self), self.findings)
        return HealthCheckResult(
            check=self, error=error, time_taken=timeit.default_timer() - started
        )


def log_transition(check: str, findings: list[Finding]) -> None:
    """One log record when a check's set of finding ids changes, none per request."""
    ids = frozenset(f.id for f in findings if f.severity > Severity.INFO)
    seen = memo.record("serving:verdicts")
    if seen.get(check, frozenset()) == ids:
        return
    seen[check] = ids
    if ids:
        level = (
            logging.ERROR
            if any(REGISTRY[i].severity is Severity.CRITICAL for i in ids)
            else logging.WARNING
        )
        logger.log(level, "health_deep: %s now reports %s", check, ", ".join(sorted(ids)))
    else:
        logger.info("health_deep: %s passes again", check)


@dataclasses.dataclass
class Connection(ServedCheck):
    """The database answers ``SELECT 1``: django-health-check's ``Database`` check, served
    through the probe cache. Per request, that check opens a connection (a new server process
    on PostgreSQL) for every probe; here a flood of probes costs one per TTL."""

    alias: str = "default"

    name = "connection"

    def evaluate(self) -> list[Finding]:
        return runner.connection_findings(self.alias)


@dataclasses.dataclass
class Migrations(ServedCheck):
    """Migration integrity on one database: unapplied, unknown and edited migrations.

    ``include_code`` adds the code-only finding (models changed without a migration); the
    default view sets it on one alias only so it is reported once.
    """

    alias: str = "default"
    include_code: bool = dataclasses.field(default=True, repr=False)

    name = "migrations"

    def key(self) -> str:
        return f"migrations:{self.alias}:{self.include_code}"

    def prepare(self) -> None:
        runner.migration_facts(include_code=self.include_code)

    def evaluate(self) -> list[Finding]:
        findings = runner.migration_findings(self.alias)
        return findings + runner.code_findings() if self.include_code else findings


@dataclasses.dataclass
class SchemaDrift(ServedCheck):
    """Schema drift on one database: the live catalog judged against what the models need."""

    alias: str = "default"

    name = "schema"

    def prepare(self) -> None:
        runner.schema_facts(self.alias)

    def evaluate(self) -> list[Finding]:
        return runner.schema_findings(self.alias)


@dataclasses.dataclass
class SmokeQueries(ServedCheck):
    """Each endpoint's own query, run for one real row, read-only, under one deadline."""

    name = "smoke"

    # Kept for rendering and the answer's way back: the queries stop this long before the
    # probe that waits for them gives up.
    MARGIN = 0.15

    def prepare(self) -> None:
        runner.smoke_endpoints()

    def evaluate(self) -> list[Finding]:
        # The queries fit in what is left of the waiting probe's deadline, so that probe
        # gets their verdict (the rest are skipped and run first next time: I306), and give
        # way to the other checks while they run, keeping half of what is left for themselves.
        budget = conf.get().smoke_deadline
        left = probe_cache.time_left() - self.MARGIN
        if left < float("inf"):
            CACHE.give_way(until=time.monotonic() + max(0.0, left - min(budget, left / 2)))
            left = probe_cache.time_left() - self.MARGIN
        return runner.smoke_findings(deadline=min(budget, max(0.0, left)))
