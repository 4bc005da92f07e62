"""Explicit smoke queries: a decorator on the view, or the ``SMOKE_QUERIES`` setting.

For endpoints discovery cannot cover (function views, querysets built from the request,
custom managers, raw SQL). A smoke query is a callable taking no argument that returns a
queryset (health_deep fetches one row of it) or runs a read-only query itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.utils.module_loading import import_string

ATTRIBUTE = "health_deep_smoke"

V = TypeVar("V")


def smoke_query(query: Callable[[], Any]) -> Callable[[V], V]:
    """Give a view (function or class) the query health_deep runs for its endpoint::

    @smoke_query(lambda: Order.objects.select_related("customer"))
    def orders(request): ...
    """
    if not callable(query):
        raise TypeError(f"smoke_query() takes a callable, not {type(query).__name__}")

    def decorate(view: V) -> V:
        setattr(view, ATTRIBUTE, query)
        return view

    return decorate


def from_settings(raw: Any) -> tuple[dict[str, Callable[[], Any]], list[str]]:
    """``HEALTH_DEEP['SMOKE_QUERIES']`` ({URL name: callable or dotted path}) resolved, and
    every problem with it as a sentence."""
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, ["HEALTH_DEEP['SMOKE_QUERIES'] must be a dict of URL name -> callable"]
    resolved: dict[str, Callable[[], Any]] = {}
    problems: list[str] = []
    for name, target in raw.items():
        where = f"HEALTH_DEEP['SMOKE_QUERIES'][{name!r}]"
        if isinstance(target, str):
            try:
                target = import_string(target)
            except ImportError as exc:
                problems.append(f"{where}: cannot import {target!r} ({exc})")
                continue
        if not callable(target):
            problems.append(f"{where} is not callable")
            continue
        resolved[str(name)] = target
    return resolved, problems
