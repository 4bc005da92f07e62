"""Who may see findings in full (object names, hints, driver errors) and who sees status only."""

from __future__ import annotations

import hmac
import logging
import threading
from concurrent.futures import Future

from django.conf import settings
from django.http import HttpRequest

from health_deep import conf, dbguard, memo

logger = logging.getLogger("health_deep")

TOKEN_HEADER = "X-Health-Token"


def allowed(request: HttpRequest) -> bool:
    """True when this caller may see full findings. Secure by default: anonymous sees status.
    Sync-only when the request carries a session (the user is loaded from it)."""
    decided = allowed_without_user(request)
    if decided is not None:
        return decided
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)


def allowed_later(request: HttpRequest) -> Future[bool]:
    """:func:`allowed` in a thread of its own, with connections of its own under the client's
    limits: the caller waits for it only as long as its deadline allows (loading a session
    from a database that does not answer must not hold the probe, or the server's thread
    that runs sync code for every request)."""
    future: Future[bool] = Future()

    def decide() -> None:
        if not future.set_running_or_notify_cancel():
            return  # the caller gave up before it began
        line = dbguard.Line(seconds=conf.get().abandon_after)
        try:
            future.set_result(allowed(request))
        except BaseException as exc:
            future.set_exception(exc)
        finally:
            line.close()

    threading.Thread(target=decide, name="health_deep details", daemon=True).start()
    return future


def allowed_without_user(request: HttpRequest) -> bool | None:
    """The decision when the user does not matter, else None (then only ``request.user``,
    loaded from the session cookie, decides: sync-only code)."""
    config = conf.get()
    if config.details == "always":
        return True
    if config.details == "never":
        return False
    if config.token and _presented_token(request) is not None:
        presented = _presented_token(request) or ""
        if hmac.compare_digest(presented.encode("utf-8", "replace"), config.token.encode()):
            return True
    if config.details_ips and _remote_addr(request) in config.details_ips:
        _warn_if_forwarded(request)
        return True
    if not hasattr(request, "user") or settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False  # no session: anonymous, whatever the user middleware would say
    return None


def _remote_addr(request: HttpRequest) -> str | None:
    try:
        return conf.normalised_ip(str(request.META.get("REMOTE_ADDR", "")))
    except ValueError:
        return None


def _presented_token(request: HttpRequest) -> str | None:
    token = request.headers.get(TOKEN_HEADER)
    if token:
        return token
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


_FORWARDED = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _warn_if_forwarded(request: HttpRequest) -> None:
    """Once per process: an address in ``DETAILS_IPS`` that came with a proxy header may
    itself have come from that header (uvicorn trusts ``X-Forwarded-For`` from 127.0.0.1 by
    default), and then any caller that can reach the server can claim it."""
    if not any(request.META.get(name) for name in _FORWARDED):
        return
    seen = memo.record("serving:warned")
    if seen.get("forwarded"):
        return
    seen["forwarded"] = True
    logger.warning(
        "health_deep: a request shown details by HEALTH_DEEP['DETAILS_IPS'] carried a proxy "
        "header (X-Forwarded-For, Forwarded or X-Real-IP). If the server sets REMOTE_ADDR from "
        "it (uvicorn trusts 127.0.0.1 by default), any caller that reaches it may claim an "
        "allowed address: set --forwarded-allow-ips to your proxy alone, or use the token."
    )
