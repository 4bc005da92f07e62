"""Which queries the smoke check runs: the URLconf's endpoints, discovered once per process,
and the distinct queries behind them, planned once per process (under the guard: building a
queryset runs the site's managers)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from health_deep import conf, memo, userguard
from health_deep.smoke import discovery, execution, recorded, registry
from health_deep.smoke.discovery import Endpoint

# Views that are not the site's API: admin, static files, the health endpoints themselves.
_NOT_ENDPOINTS = (
    "django.contrib.admin.",
    "django.contrib.staticfiles.",
    "django.views.static.",
    "health_deep.",
    "health_check.",
)
_NOT_ENDPOINT_NAMESPACES = {"admin", "health_deep"}


def smoke_endpoints(urlconf: str | None = None) -> list[Endpoint]:
    """The endpoints of ``urlconf`` (default: ``ROOT_URLCONF``), discovered once per process."""

    def compute() -> list[Endpoint]:
        config = conf.get()
        registered, _problems = registry.from_settings(config.smoke_queries)
        excluded = set(config.smoke_exclude)
        return [
            e
            for e in discovery.discover(urlconf=urlconf, registered=registered)
            if not e.view.startswith(_NOT_ENDPOINTS)
            and e.namespace.split(":")[0] not in _NOT_ENDPOINT_NAMESPACES
            and e.name not in excluded
            and not any(e.route.startswith(p) for p in excluded if p.startswith("/"))
        ]

    return memo.cached(f"smoke:endpoints:{urlconf}" if urlconf else "smoke:endpoints", compute)


def planned(
    urlconf: str | None = None, *, inside: Callable[[], AbstractContextManager[Any]] | None = None
) -> execution.Plan:
    """The queries behind ``urlconf``'s endpoints, planned once per process; ``inside`` makes
    the context they are built in (a tenant's schema, for a tenant URLconf's managers)."""

    def compute() -> execution.Plan:
        endpoints = smoke_endpoints(urlconf)

        def build() -> execution.Plan:
            with inside() if inside is not None else contextlib.nullcontext():
                plan = execution.plan(endpoints)
            if urlconf is None:  # the site's own URLconf: its recording too
                plan = execution.with_recorded(plan, recorded.load(endpoints))
            return plan

        return userguard.call_guarded(build, known=set(), timeout=conf.get().statement_timeout)

    return memo.cached(f"smoke:plan:{urlconf}" if urlconf else "smoke:plan", compute)


def smoke_plan() -> list[execution.Query]:
    """The distinct queries behind the endpoints, planned once per process. Planning builds
    each view's queryset, which runs the site's managers (user code): under the guard."""
    return planned().queries


def as_planned(endpoints: list[Endpoint]) -> list[Endpoint]:
    """The endpoints as planned: those whose queryset could not be built marked not covered,
    those a recording covers marked so (their recorded queries are what they run)."""
    plan = planned()
    unplanned = {(e.route, e.name, e.view): e for e in plan.unplanned}
    found = []
    for endpoint in endpoints:
        endpoint = unplanned.get((endpoint.route, endpoint.name, endpoint.view), endpoint)
        if (endpoint.route, endpoint.name) in plan.recorded and not endpoint.covered:
            endpoint = dataclasses.replace(endpoint, source=recorded.RECORDED, reason="")
        found.append(endpoint)
    return found
