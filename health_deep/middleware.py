"""health_deep's middleware: :class:`ProbeHostMiddleware` lets load balancers probe the
health URLs by IP address; :class:`SmokeRecordingMiddleware` records the queries endpoints run
(staging, or the site's own test run).


Load balancers and Kubernetes probes send the instance's IP as the ``Host`` header, which is
rarely in ``ALLOWED_HOSTS``: Django then answers 400 before any view runs, and the target is
marked unhealthy for a reason that has nothing to do with its health. Listing every instance
IP in ``ALLOWED_HOSTS`` weakens Host validation for the whole site; this middleware relaxes it
for health_deep's own URLs only.
"""

from __future__ import annotations

import atexit
import functools
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

logger = logging.getLogger("health_deep")


@functools.lru_cache(maxsize=256)
def _is_health_path(path: str, urlconf: str | None) -> bool:
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return False
    view = getattr(match.func, "view_class", match.func)
    return getattr(view, "__module__", "").startswith("health_deep.")


class ProbeHostMiddleware:
    """For a health_deep URL with a ``Host`` not in ``ALLOWED_HOSTS``, answer as if the first
    plain ``ALLOWED_HOSTS`` entry had been named. Every other URL keeps Django's 400.

    Put it first in ``MIDDLEWARE``: ``SecurityMiddleware`` and ``CommonMiddleware`` read the host.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            request.get_host()
        except DisallowedHost:
            substitute = _plain_allowed_host()
            urlconf = getattr(request, "urlconf", None)
            if substitute and _is_health_path(request.path_info, urlconf):
                request.META["HTTP_HOST"] = substitute
                request.META.pop("HTTP_X_FORWARDED_HOST", None)
        return self.get_response(request)


def _plain_allowed_host() -> str | None:
    for host in settings.ALLOWED_HOSTS:
        if host and not host.startswith((".", "*")):
            return str(host)
    return None


class SmokeRecordingMiddleware:
    """Records the plain reads each successful GET runs into ``HEALTH_DEEP['SMOKE_LOCK']``
    (see :mod:`health_deep.smoke.recording`), while ``HEALTH_DEEP['RECORD_SMOKE']`` is True
    (or ``pytest --health-deep-record`` runs). Put it last in ``MIDDLEWARE``, on staging or in
    test settings: a production site has no use for it. Otherwise it only passes requests on.
    """

    FLUSH_EVERY = 5.0  # seconds between writes of the lockfile while new queries appear

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._flushed = 0.0

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from health_deep import conf
        from health_deep.smoke import recording

        if not (conf.get().record_smoke or recording.FORCED):
            return self.get_response(request)
        response = recording.record(request, self.get_response)
        if recording.FORCED:
            return response  # the pytest plugin writes at the end of the run
        _write_at_exit()
        now = time.monotonic()
        if now - self._flushed > self.FLUSH_EVERY:
            self._flushed = now
            _flush()
        return response


def _flush() -> None:
    from health_deep import conf
    from health_deep.smoke import recording

    if not conf.get().record_smoke or recording.FORCED:
        return
    try:
        recording.RECORDER.flush(conf.get().smoke_lock)
    except OSError as exc:  # the site's answer never depends on the recording
        logger.warning("health_deep: the smoke lockfile cannot be written: %s", exc)


@functools.cache
def _write_at_exit() -> None:
    """Once per process: what the last requests ran, fewer than ``FLUSH_EVERY`` seconds before
    the process stops (a server's graceful stop runs these), is written then, while the
    settings still ask for a recording."""
    atexit.register(_flush)
