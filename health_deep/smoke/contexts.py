"""Managers that need a context only a request gives, and how the smoke check meets them.

Multi-tenant sites scope their managers: django-scopes raises ``ScopeError`` for any query
made outside ``scope(...)``, which a request's middleware or view opens. The smoke check runs
outside any request, so where the library documents a way to read across scopes
(``django_scopes.scopes_disabled()``) the smoke queries use it, inside the read-only guard;
anything else that refuses is named in the endpoint's coverage reason.
"""

from __future__ import annotations

import contextlib
from typing import Any

_SCOPE_ERRORS = {"django_scopes.exceptions.ScopeError"}


def unscoped() -> Any:
    """``scopes_disabled()`` when django-scopes is installed, else nothing."""
    try:
        from django_scopes import scopes_disabled
    except ImportError:
        return contextlib.nullcontext()
    return scopes_disabled()


def why_not_built(exc: BaseException) -> str:
    """The coverage reason for an endpoint whose queryset raised while it was built."""
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    if name in _SCOPE_ERRORS or type(exc).__name__ == "ScopeError":
        return (
            "its manager needs a scope that only a request opens (ScopeError): register a "
            "smoke query that opens one"
        )
    return f"building its queryset raised {type(exc).__name__}: register a smoke query"
