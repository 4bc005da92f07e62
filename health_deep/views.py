"""The health endpoints: django-health-check's view with probe-friendly status codes.

django-health-check answers 500 for any failed check, warnings included. A load balancer
needs a different contract: 503 only when something is critical, 200 when only warnings.
This view keeps django-health-check's formats and adds an overall ``status`` word.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import re
import time
import typing
from typing import Any

import django
from asgiref.sync import async_to_sync, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.http import http_date
from django.utils.module_loading import import_string
from django.views.decorators.http import require_safe
from health_check.base import HealthCheck, HealthCheckResult
from health_check.checks import Database
from health_check.exceptions import ServiceWarning
from health_check.views import HealthCheckView, MediaType

import health_deep
from health_deep import conf, details, metrics, runner, tenants
from health_deep.checks import Connection, Migrations, SchemaDrift, ServedCheck, SmokeQueries
from health_deep.findings import Finding, Severity
from health_deep.smoke import tenants as tenant_smoke
from health_deep.tenants import scope

logger = logging.getLogger("health_deep")

PROFILES = ("live", "ready", "deep")

_ACCEPT = {
    "text/plain": "text",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/*": "html",
    # Probes (kubelet, load balancers, curl) send */* or nothing: plain text is what they can
    # show and the cheapest to render. Browsers name text/html first.
    "*/*": "text",
    "application/json": "json",
    "application/*": "json",
    "application/atom+xml": "atom",
    "application/rss+xml": "rss",
    "application/openmetrics-text": "openmetrics",
    "application/health+json": "health+json",
}


def negotiate(request: HttpRequest) -> str:
    """The answer's format, by ``?format=`` or ``Accept``; plain text when nothing fits."""
    if request.META.get("QUERY_STRING"):
        forced = (request.GET.get("format") or "").replace(" ", "+")  # an unescaped + is a space
        if forced in ("json", "text", "atom", "rss", "openmetrics", "html", "health+json"):
            return forced
    accept = request.META.get("HTTP_ACCEPT") or "*/*"
    if accept in _ACCEPT:  # one bare media type, as probes send: nothing to parse
        return _ACCEPT[accept]
    try:
        for media in MediaType.parse_header(accept):
            if media.mime_type in _ACCEPT and media.weight > 0:
                return _ACCEPT[media.mime_type]
    except ValueError:
        pass  # a malformed Accept header must not fail a probe
    # Nothing acceptable: a probe still needs its status code, so answer in plain text.
    return "text"


def page(
    verdict: str, checks: list[dict[str, Any]], *, show_details: bool, status: int
) -> HttpResponse:
    """health_deep's HTML page for a verdict (pass, warn, fail) and its checks."""
    headline, explanation = _HEADLINES[verdict]
    context = {
        "status": verdict,
        "headline": headline,
        "explanation": explanation,
        "checks": checks,
        "show_details": show_details,
    }
    html = render_to_string("health_deep/health.html", context)
    return HttpResponse(html, status=status, content_type="text/html; charset=utf-8")


@require_safe
def live(request: HttpRequest) -> HttpResponse:
    """``/health/live/``: the process answers. A plain synchronous view: it runs no check,
    touches no database and loads no user, so it costs about what a trivial view costs."""
    started = time.perf_counter()
    match negotiate(request):
        case "json" | "atom" | "rss":
            response: HttpResponse = JsonResponse({"status": "pass", "checks": {}})
        case "health+json":
            response = HttpResponse(
                '{"status": "pass", "checks": {}}', content_type="application/health+json"
            )
        case "openmetrics":
            # Versions tell an attacker which advisories apply: authorised callers only.
            shown = bool(details.allowed_without_user(request))
            response = HttpResponse(
                metrics.render([], up=True, versions=build_versions() if shown else {}),
                content_type=metrics.CONTENT_TYPE,
            )
        case "html":
            response = page("pass", [], show_details=False, status=200)
        case _:
            response = HttpResponse("status: pass\n", content_type="text/plain; charset=utf-8")
    never_cached(response)
    response["Server-Timing"] = _server_timing(started)
    return response


_NEVER = "max-age=0, no-cache, no-store, must-revalidate, private"


def build_versions() -> dict[str, str]:
    """The versions ``health_deep_build`` names, for callers allowed to see details."""
    return {"health_deep": health_deep.__version__, "django": django.get_version()}


def never_cached(response: HttpResponse) -> None:
    """What ``add_never_cache_headers`` and ``patch_vary_headers(response, ["Accept"])`` give
    a fresh response, set directly (on every probe, their header parsing showed up)."""
    response.headers["Expires"] = http_date(time.time() - 1)
    response.headers["Cache-Control"] = _NEVER
    response.headers["Vary"] = "Accept"


def _server_timing(started: float) -> str:
    # How long the answer took inside the server (a probe's latency also counts queueing).
    return f"health;dur={(time.perf_counter() - started) * 1000:.1f}"


def _coroutine_marks() -> dict[str, Any]:
    """The attributes ``markcoroutinefunction`` sets on a function (they differ between
    Python versions), read off a function it marks."""

    def probe() -> None: ...

    before = dict(vars(probe))
    markcoroutinefunction(probe)
    return {k: v for k, v in vars(probe).items() if k not in before or before[k] is not v}


_MARKS = _coroutine_marks()


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class _EveryAlias(frozenset[str]):
    def __contains__(self, alias: object) -> bool:
        return True


class HybridView:
    """A view Django awaits under ASGI and calls directly under WSGI.

    Django asks ``iscoroutinefunction(view)`` on every request. A coroutine function is
    awaited by the ASGI handler, and run through ``async_to_sync`` by the WSGI handler, which
    builds an event loop and a thread for each request: that cost, not the checks, made a
    cached probe ten times a trivial view. This callable answers the question by where it is
    asked: inside a running event loop (the ASGI handler) it is a coroutine function,
    elsewhere (a WSGI worker thread) a plain one.
    """

    def __init__(self, awaited: Any, called: Any) -> None:
        self._awaited, self._called = awaited, called
        self.__doc__, self.__module__ = awaited.__doc__, awaited.__module__
        self.__name__ = self.__qualname__ = getattr(awaited, "__name__", "view")
        for name, value in vars(awaited).items():  # view_class, view_initkwargs, ...
            if name not in _MARKS:
                setattr(self, name, value)
        # A probe opens its own guarded transactions: never one around the request, on any
        # alias (ATOMIC_REQUESTS would wrap it, and refuses an async view under ASGI).
        self._non_atomic_requests = _EveryAlias()

    def __getattr__(self, name: str) -> Any:
        if name in _MARKS and _in_event_loop():
            return _MARKS[name]
        raise AttributeError(name)

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if _in_event_loop():
            return self._awaited(request, *args, **kwargs)
        return self._called(request, *args, **kwargs)


def default_checks(profile: str) -> list[HealthCheck]:
    """The checks a profile runs when the site does not list its own: health_deep's, and on
    ``/health/`` the site's own django-health-check checks (``HEALTH_DEEP['EXTRA_CHECKS']``)."""
    if profile == "live":
        return []  # liveness must never depend on the database
    checks: list[HealthCheck] = []
    for position, alias in enumerate(runner.aliases()):
        checks.append(Connection(alias=alias))
        checks.append(Migrations(alias=alias, include_code=position == 0))
        checks.append(SchemaDrift(alias=alias))
    checks.append(SmokeQueries())
    if profile == "deep":
        checks += extra_checks()
    return checks


def extra_checks() -> list[HealthCheck]:
    """``HEALTH_DEEP['EXTRA_CHECKS']`` instantiated as django-health-check does; one that does
    not import is left out here (the E001 system check names it)."""
    made: list[HealthCheck] = []
    for item in conf.get().extra_checks:
        target, options = item if isinstance(item, tuple) else (item, {})
        try:
            check = import_string(target) if isinstance(target, str) else target
            made.append(check(**options))
        except Exception:
            logger.warning("health_deep: EXTRA_CHECKS entry %r cannot be used", target)
    return made


def result_status(result: HealthCheckResult) -> str:
    if result.error is None:
        return "pass"
    return "warn" if isinstance(result.error, ServiceWarning) else "fail"


STARTING = "health_deep.W005"


def overall_status(results: typing.Iterable[HealthCheckResult], *, profile: str = "deep") -> str:
    """The verdict word. A check still starting (W005) is a warning on ``/health/`` (a
    recycled worker must not page anyone) and a failure on ``/health/ready/``: a process that
    does not know its verdict yet is not ready for traffic."""
    results = list(results)
    words = {result_status(r) for r in results}
    findings = [f for r in results for f in getattr(r.check, "findings", ())]
    if profile == "ready" and any(f.id == STARTING for f in findings):
        return "fail"
    if profile == "ready" and "fail" in words and _only_some_tenants(results, findings):
        return "warn"
    return "fail" if "fail" in words else "warn" if "warn" in words else "pass"


def _only_some_tenants(results: list[HealthCheckResult], findings: list[Finding]) -> bool:
    """True when every failure is a few tenants' own (see :mod:`health_deep.tenants.scope`):
    ``/health/`` still fails and names the tenants."""
    failing = [r for r in results if result_status(r) == "fail"]
    if not all(getattr(r.check, "findings", None) for r in failing):
        return False  # a check that failed without findings (an error of its own)
    return scope.only_some_tenants(findings, share=conf.get().tenants_ready_share)


class HealthView(HealthCheckView):
    """``/health/`` (deep), ``/health/ready/`` and ``/health/live/``: 503 on critical findings."""

    profile: str = "deep"
    checks: Any = None  # None: the profile's defaults; a list: as django-health-check takes it

    results: list[HealthCheckResult]
    tenant_schema: str | None = None

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        # On a tenant's own host, the probe answers for that tenant (tenants.scope), whose
        # smoke queries run first in the next evaluation.
        self.tenant_schema = tenants.request_schema(request)
        if self.tenant_schema is not None and self.profile != "live":
            tenant_smoke.ask_for(self.tenant_schema)

    def get_checks(self) -> typing.Generator[HealthCheck, None, None]:
        checks = default_checks(self.profile) if self.checks is None else super().get_checks()
        for check in checks:
            if isinstance(check, ServedCheck):
                check.tenant_schema = self.tenant_schema
            yield check

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        started = time.perf_counter()
        response = await self._answer(request, started=started, **kwargs)
        response["Server-Timing"] = _server_timing(started)
        return response

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        """The view function: awaited under ASGI, called directly under WSGI, where a probe
        served from the cache then costs no event loop (see :class:`HybridView`)."""
        awaited = super().as_view(**initkwargs)

        def called(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in ("GET", "HEAD"):
                self = cls(**initkwargs)
                self.setup(request, *args, **kwargs)
                started = time.perf_counter()
                response = self.answer_from_cache(request)
                if response is not None:
                    never_cached(response)
                    response["Server-Timing"] = _server_timing(started)
                    return response
            # An evaluation to wait for, a check of the site's own, a session to load, or
            # another method: django-health-check's asynchronous path.
            response = async_to_sync(awaited)(request, *args, **kwargs)
            return typing.cast(HttpResponse, response)

        return HybridView(awaited, called)

    def answer_from_cache(self, request: HttpRequest) -> HttpResponse | None:
        """The whole answer when every check is served from the probe cache and who may see
        details is known without a session; None otherwise. Never blocks."""
        results = []
        for check in self.get_checks():
            result = check.cached_result() if isinstance(check, ServedCheck) else None
            if result is None:
                return None
            results.append(result)
        self.results = results
        self.status = overall_status(self.results, profile=self.profile)
        decided = details.allowed_without_user(request)
        if decided is None and any(self._findings(r) for r in self.results):
            return None  # only the session can tell
        self.show_details = bool(decided)
        return self._render(request)

    async def _answer(self, request: HttpRequest, *, started: float, **kwargs: Any) -> HttpResponse:
        cached = self.answer_from_cache(request)
        if cached is not None:
            return cached
        checks = list(self.get_checks())
        for check in checks:
            if isinstance(check, ServedCheck):
                check.request_started = started
        with self.get_executor() as executor:
            self.results = list(await asyncio.gather(*(c.get_result(executor) for c in checks)))
        self.status = overall_status(self.results, profile=self.profile)
        self.show_details = await self._show_details(request, started=started)
        return self._render(request)

    def _render(self, request: HttpRequest) -> HttpResponse:
        status_code = 503 if self.status == "fail" else 200
        match self._format(request):
            case "json":
                return self.render_to_response_json(status_code)
            case "health+json":
                return self.render_to_response_health_json(status_code)
            case "text":
                return self.render_to_response_text(status_code)
            case "atom" | "rss" as feed:
                # A feed reader or a monitor polling the feed reads the status code too.
                response = getattr(self, f"render_to_response_{feed}")()
                response.status_code = status_code
                return response
            case "openmetrics":
                return self.render_openmetrics()
        return self.render_page(status_code)

    async def _show_details(self, request: HttpRequest, *, started: float) -> bool:
        decided = details.allowed_without_user(request)
        if decided is not None:
            return decided
        if not any(self._findings(r) for r in self.results):
            return False  # nothing a user could unlock: never load one (/health/live/)
        # Only the session can tell, and loading it reads the session store (the database,
        # by default): bounded by what is left of the deadline, and a failure means "no".
        left = conf.get().deadline - (time.perf_counter() - started)
        try:
            return await asyncio.wait_for(
                asyncio.wrap_future(details.allowed_later(request)), timeout=max(0.05, left)
            )
        except Exception:  # a session store that is down or slow: not authorised
            logger.warning(
                "health_deep: the session could not be loaded for the details "
                "policy; showing status only"
            )
            return False

    def _format(self, request: HttpRequest) -> str:
        return negotiate(request)

    def render_page(self, status: int) -> HttpResponse:
        """health_deep's own HTML page: the verdict, each check, and the findings (objects
        and hints only for authorised viewers; ids for everyone)."""
        checks = []
        for result in self.results:
            shown = [f for f in self._findings(result) if f.severity > Severity.INFO]
            checks.append(
                {
                    "name": repr(result.check),
                    "status": result_status(result),
                    "output": "" if result.error is None else str(result.error),
                    "stale": bool(getattr(result.check, "stale", False)),
                    "age": round(float(getattr(result.check, "age", 0.0)), 1),
                    "findings": [
                        {
                            "id": f.id,
                            "severity": f.severity.label,
                            "object": f.object,
                            "message": f.message,
                            "hint": f.hint,
                        }
                        for f in shown
                    ],
                }
            )
        return page(self.status, checks, show_details=self.show_details, status=status)

    def render_openmetrics(self) -> HttpResponse:
        """health_deep's own metrics (see :mod:`health_deep.metrics`); always 200, as
        Prometheus ingests nothing else: ``health_deep_up`` carries the verdict."""
        states = []
        for result in self.results:
            counts: dict[tuple[str, str], int] = {}
            for finding in self._findings(result):
                key = (finding.id, finding.severity.label)
                counts[key] = counts.get(key, 0) + 1
            states.append(
                metrics.CheckState(
                    name=repr(result.check),
                    status=result_status(result),
                    findings=counts,
                    age=float(getattr(result.check, "age", 0.0)),
                    stale=bool(getattr(result.check, "stale", False)),
                    evaluation_seconds=float(getattr(result.check, "took", 0.0)),
                    serve_seconds=result.time_taken,
                )
            )
        versions = build_versions() if self.show_details else {}  # authorised callers only
        body = metrics.render(states, up=self.status != "fail", versions=versions)
        return HttpResponse(body, content_type=metrics.CONTENT_TYPE, status=200)

    def _findings(self, result: HealthCheckResult) -> list[Finding]:
        return list(getattr(result.check, "findings", []))

    def _check_body(self, result: HealthCheckResult) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": result_status(result),
            "output": "OK" if result.error is None else str(result.error),
            "time": round(result.time_taken, 6),
        }
        if getattr(result.check, "age", 0.0) or getattr(result.check, "stale", False):
            body["age"] = round(result.check.age, 3)  # served from the probe cache
            body["stale"] = bool(result.check.stale)
        if self.show_details and self._findings(result):
            body["findings"] = [f.as_dict() for f in self._findings(result)]
        return body

    def render_to_response_json(self, status: int) -> JsonResponse:
        return JsonResponse(
            {
                "status": self.status,
                "checks": {repr(r.check): self._check_body(r) for r in self.results},
            },
            status=status,
        )

    def render_to_response_text(self, status: int) -> HttpResponse:
        lines = [f"status: {self.status}"]
        for result in self.results:
            lines.append(f"{result.check!r}: {self._check_body(result)['output']}")
            if self.show_details:
                lines += [f"  [{f.id}] {f.object}: {f.message}" for f in self._findings(result)]
        return HttpResponse(
            "\n".join(lines) + "\n", content_type="text/plain; charset=utf-8", status=status
        )

    def render_to_response_health_json(self, status: int) -> HttpResponse:
        """The IETF health check response format (draft-inadarei-api-health-check)."""
        checks: dict[str, list[dict[str, Any]]] = {}
        for result in self.results:
            checks.setdefault(_component(result.check), []).append(self._health_entry(result))
        body = {"status": self.status, "description": "health_deep", "checks": checks}
        return HttpResponse(json.dumps(body), status=status, content_type="application/health+json")

    def _health_entry(self, result: HealthCheckResult) -> dict[str, Any]:
        """One check as the draft's section 4 describes a check object."""
        findings = self._findings(result)
        observed = datetime.datetime.now(datetime.UTC) - datetime.timedelta(
            seconds=getattr(result.check, "age", 0.0)
        )
        ours = isinstance(result.check, ServedCheck)
        entry: dict[str, Any] = {
            "componentId": getattr(result.check, "alias", None) or "endpoints"
            if ours
            else repr(result.check),
            "componentType": "datastore"
            if isinstance(result.check, Connection | Migrations | SchemaDrift | Database)
            else "component",
            "status": result_status(result),
            "time": observed.isoformat(timespec="seconds"),
        }
        if isinstance(result.check, Database):
            entry |= {"observedValue": round(result.time_taken * 1000, 3), "observedUnit": "ms"}
        elif ours:
            entry |= {
                "observedValue": sum(f.critical for f in findings),
                "observedUnit": "critical findings",
            }
        if entry["status"] == "pass":
            return entry  # 4.8: output SHOULD be omitted for the "pass" state
        entry["output"] = str(result.error)
        if self.show_details:
            affected = sorted(
                {uri_template(e) for f in findings if f.critical for e in f.endpoints}
            )
            if affected:
                entry["affectedEndpoints"] = affected  # 4.6: URI templates (RFC 6570)
            detailed = "; ".join(
                f"{f.id} {f.object}: {f.message}" for f in findings if f.severity > Severity.INFO
            )
            entry["output"] = detailed or entry["output"]
        return entry


_HEADLINES = {
    "pass": ("Healthy", "Every check passed: the code and the database agree."),
    "warn": (
        "Healthy, with warnings",
        "The site serves traffic (200); some findings deserve a look.",
    ),
    "fail": ("Unhealthy", "At least one critical finding: this instance answers 503."),
}

_PATH_PARAMETER = re.compile(r"<(?:[^>:]+:)?([^>]+)>")
_REGEX_GROUP = re.compile(r"\(\?P<([^>]+)>[^)]*\)")


def uri_template(label: str) -> str:
    """An endpoint label (``/api/items/<int:pk>/ (api:item)``) as an RFC 6570 URI template
    (``/api/items/{pk}/``): what the draft's ``affectedEndpoints`` hold."""
    route = label.split(" (", 1)[0]
    route = _REGEX_GROUP.sub(r"{\1}", route)  # before <...>, which a group name also has
    route = _PATH_PARAMETER.sub(r"{\1}", route)
    return route.replace("^", "").replace("$", "").replace("\\", "")


def _component(check: HealthCheck) -> str:
    return {
        Database: "database:responseTime",
        Connection: "database:connection",
        Migrations: "migrations:integrity",
        SchemaDrift: "schema:drift",
        SmokeQueries: "endpoints:smokeQueries",
    }.get(type(check), f"{type(check).__name__}:status")
