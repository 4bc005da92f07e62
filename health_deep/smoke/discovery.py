"""Which endpoints have a query we can run: walk the URLconf once, find each view's queryset.

Django generic views (``model``/``queryset``), Django REST framework views and viewsets
(``queryset``) and explicitly registered callables are covered. Django REST framework is
never imported: its views are recognised by the attributes ``as_view()`` leaves on them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from health_deep.smoke.registry import ATTRIBUTE

# get_queryset() implementations that only read the class's queryset/model attributes.
_PLAIN_GET_QUERYSET = {
    "django.views.generic.list.MultipleObjectMixin.get_queryset",
    "django.views.generic.detail.SingleObjectMixin.get_queryset",
    "rest_framework.generics.GenericAPIView.get_queryset",
}


# The view has a queryset or model, but its own get_queryset() decides what it runs: the
# base query is still worth running (it reads the table), but the endpoint is not covered.
BASE_ONLY = "base queryset"
# No query of its own to read, but ``smoke.lock`` holds what it ran (smoke/recorded.py).
RECORDED = "recorded"


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """One URL pattern and what health_deep can run for it."""

    route: str  # "/api/integrations/<int:pk>/"
    name: str | None  # "integrations:integration-detail"
    view: str  # dotted path of the view class or function
    query: Callable[[], Any] | None = dataclasses.field(default=None, compare=False)
    source: str = ""  # "queryset", "model", "registered", or BASE_ONLY
    reason: str = ""  # why there is no query, when there is none
    namespace: str = ""  # "admin", "api:v2", ...

    @property
    def covered(self) -> bool:
        """Whether the query run for this endpoint is the one the endpoint itself runs."""
        return self.source == RECORDED or (self.query is not None and self.source != BASE_ONLY)

    @property
    def label(self) -> str:
        return f"{self.route} ({self.name})" if self.name else self.route


def discover(
    *, urlconf: str | None = None, registered: dict[str, Callable[[], Any]] | None = None
) -> list[Endpoint]:
    """Every endpoint of the URLconf, covered or not. ``registered`` maps URL names to
    callables (the ``HEALTH_DEEP['SMOKE_QUERIES']`` setting, already imported)."""
    registered = registered or {}
    return [
        dataclasses.replace(_endpoint(route, name, pattern, registered), namespace=namespace or "")
        for route, name, namespace, pattern in _walk(get_resolver(urlconf).url_patterns, "/", None)
    ]


def _walk(
    patterns: list[Any], prefix: str, namespace: str | None
) -> Iterator[tuple[str, str | None, str | None, URLPattern]]:
    for pattern in patterns:
        if not isinstance(pattern, URLResolver | URLPattern):
            continue  # not a pattern (a list or a name where Django wants one): never routed
        route = prefix + _route(pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            name = pattern.name
            if name and namespace:
                name = f"{namespace}:{name}"
            yield route, name, namespace, pattern


def normal_route(route: str) -> str:
    """A route as discovery spells it, from the one a request's ``resolver_match.route`` gives
    (every piece's regex anchors kept there: ``api/^books/$``): the ``^`` that starts a piece
    and the ``$`` or ``\\Z`` that ends one are dropped."""
    return re.sub(r"(?:(?<=/)|^)\^|(?:\$|\\Z)(?=/|$)", "", route)


def _route(pattern: URLPattern | URLResolver) -> str:
    text = str(pattern.pattern)
    return text.removeprefix("^").removesuffix("$").removesuffix(r"\Z")


def _endpoint(
    route: str, name: str | None, pattern: URLPattern, registered: dict[str, Callable[[], Any]]
) -> Endpoint:
    callback = pattern.callback
    cls = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    initkwargs = (
        getattr(callback, "view_initkwargs", None) or getattr(callback, "initkwargs", None) or {}
    )
    view = _dotted(cls or callback)
    explicit = (
        (registered.get(name) if name else None)
        or getattr(callback, ATTRIBUTE, None)
        or getattr(cls, ATTRIBUTE, None)
    )
    if explicit is not None:
        return Endpoint(route, name, view, query=explicit, source="registered")
    if cls is None:
        return Endpoint(route, name, view, reason="function view: register a smoke query")
    queryset = initkwargs.get("queryset", getattr(cls, "queryset", None))
    model = initkwargs.get("model", getattr(cls, "model", None))
    overridden = _dotted(getattr(cls, "get_queryset", None)) not in (*_PLAIN_GET_QUERYSET, "None")
    base = None
    if queryset is not None and hasattr(queryset, "all"):
        base = Endpoint(route, name, view, query=queryset.all, source="queryset")
    elif model is not None and hasattr(model, "_default_manager"):
        base = Endpoint(route, name, view, query=model._default_manager.all, source="model")
    if base is not None and overridden:
        return dataclasses.replace(
            base,
            source=BASE_ONLY,
            reason="get_queryset() is overridden: only the base queryset runs; register a "
            "smoke query for what the view really runs",
        )
    if base is not None:
        return base
    if overridden:
        return Endpoint(
            route,
            name,
            view,
            reason="queryset built by get_queryset() from the request: register a smoke query",
        )
    return Endpoint(route, name, view, reason="no queryset or model")


def _dotted(obj: Any) -> str:
    if obj is None:
        return "None"
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"
