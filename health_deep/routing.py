"""Asking the site's database routers, with a router that raises turned into one error type.

A router is user code: when one of its methods raises, the checks report it as a finding
(``health_deep.E004`` on ``DATABASE_ROUTERS``) instead of failing with a traceback.
"""

from __future__ import annotations

from typing import Any

from django.db import router


class RouterError(Exception):
    """A database router raised while health_deep asked it where a model or app lives."""


def ask(method: str, *args: Any, **hints: Any) -> Any:
    """``router.<method>(*args)``; a router that raises becomes :class:`RouterError`.
    ``LookupError`` passes through: Django's own ``allow_migrate`` raises it for an app that
    is no longer installed, and callers decide what that means."""
    try:
        return getattr(router, method)(*args, **hints)
    except LookupError:
        raise
    except Exception as exc:
        shown = ", ".join(repr(getattr(a, "_meta", a)) for a in args)
        raise RouterError(f"{method}({shown})") from exc
