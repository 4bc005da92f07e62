"""Recording the queries endpoints really run, for the endpoints introspection cannot read.

Function views and ``get_queryset()`` built from the request say nothing of their queries
until they run. In the site's own test run (``pytest --health-deep-record``) or on a staging
server (``HEALTH_DEEP["RECORD_SMOKE"] = True`` with :class:`SmokeRecordingMiddleware`), each
successful GET is watched with ``connection.execute_wrapper`` on every database: the
``SELECT`` statements its view ran (Django's SQL with its placeholders, each kept with the
parameter values of the first run seen) are kept per URL pattern and written to a committed,
reviewable ``smoke.lock`` (:mod:`health_deep.smoke.lockfile`). A statement that writes or
locks, a request that is not a GET, a response that is an error, are never recorded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse

from health_deep.smoke import lockfile
from health_deep.smoke.discovery import normal_route


@dataclasses.dataclass
class Captured:
    """What one request's view ran: (alias, sql, params) of each plain read, in order."""

    reads: list[tuple[str, str, Any]] = dataclasses.field(default_factory=list)
    skipped: int = 0  # statements that were not plain reads (writes, locks, executemany)


@contextlib.contextmanager
def capture() -> Iterator[Captured]:
    """Watch every database connection of this thread for the block."""
    captured = Captured()

    def watch(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        if not many and isinstance(sql, str) and lockfile.is_plain_read(sql):
            captured.reads.append((context["connection"].alias, sql, params))
        else:
            captured.skipped += 1
        return execute(sql, params, many, context)

    with contextlib.ExitStack() as stack:
        for connection in connections.all():
            stack.enter_context(connection.execute_wrapper(watch))
        yield captured


class Recorder:
    """The recordings of this process, merged into the smoke lockfile when flushed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.recording = lockfile.Recording()
        self.changed = False

    def add(self, request: HttpRequest, response: HttpResponse, captured: Captured) -> None:
        match = getattr(request, "resolver_match", None)
        if match is None or response.status_code >= 400 or not captured.reads:
            return
        if str(getattr(match, "_func_path", "")).startswith(("health_deep.", "health_check.")):
            return  # the health endpoints are not the site's API
        route = "/" + normal_route(
            str(getattr(match, "route", "") or request.path_info.lstrip("/"))
        )
        with self._lock:
            for alias, sql, params in captured.reads:
                self.changed |= self.recording.add(
                    route=route, name=match.view_name or "", alias=alias, sql=sql, params=params
                )

    def flush(self, path: str) -> None:
        """Merge what was recorded into the lockfile at ``path`` (atomically)."""
        with self._lock:
            if not self.changed:
                return
            lockfile.merge_into(path, self.recording)
            self.changed = False


RECORDER = Recorder()
FORCED = False  # set by the pytest plugin for the length of a recording test run


def record(request: HttpRequest, view: Callable[[HttpRequest], HttpResponse]) -> HttpResponse:
    """``view(request)``, its plain reads recorded when it is a successful GET."""
    if request.method not in ("GET", "HEAD"):
        return view(request)
    with capture() as captured:
        response = view(request)
    RECORDER.add(request, response, captured)
    return response
