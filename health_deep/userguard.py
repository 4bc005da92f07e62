"""User code under the guard: registered smoke queries, managers' ``get_queryset()``.

health_deep runs code it did not write inside every probe. That code runs only inside
:func:`call_guarded`: every database alias it touches is under :func:`dbguard.guarded`
(rolled back, read-only, time-limited), an alias it reaches without a guard is fenced (the
statement is refused, the alias is guarded and the call is made again), statements that would
end the transaction or change the session are refused, and a transaction ended anyway is
reported. What stays out of reach: code that uses the driver's connection directly for
anything but a commit, or opens connections of its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections

from health_deep.dbguard import guarded
from health_deep.screen import Refused

T = TypeVar("T")


class _Unguarded(BaseException):
    """User code reached an alias that is not under the guard yet. A BaseException, so that
    the ``except Exception`` of user code (and of the smoke runner) lets it through."""

    def __init__(self, alias: str) -> None:
        super().__init__(alias)
        self.alias = alias


def _fence(alias: str) -> Callable[..., Any]:
    def fence(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        raise _Unguarded(alias)

    return fence


class Touched:
    """Which aliases a call reached, for findings that name the alias that failed."""

    def __init__(self) -> None:
        self.aliases: list[str] = []
        self.last: str | None = None


@contextlib.contextmanager
def _recording(alias: str, touched: Touched) -> Iterator[None]:
    def record(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        touched.last = alias
        if alias not in touched.aliases:
            touched.aliases.append(alias)
        return execute(sql, params, many, context)

    with connections[alias].execute_wrapper(record):
        yield


def call_guarded(
    call: Callable[[], T], *, timeout: float, known: set[str], touched: Touched | None = None
) -> T:
    """``call()`` with every alias it touches under the guard. ``known`` holds the aliases
    to guard from the start and learns the ones the call reaches (keep it per call site)."""
    touched = touched or Touched()
    for _ in range(len(settings.DATABASES) + 1):
        try:
            with contextlib.ExitStack() as stack:
                for alias in settings.DATABASES:
                    if alias in known:
                        stack.enter_context(guarded(alias, timeout=timeout, screen=True))
                        stack.enter_context(_recording(alias, touched))
                    else:
                        stack.enter_context(connections[alias].execute_wrapper(_fence(alias)))
                return call()
        except _Unguarded as reached:
            known.add(reached.alias)  # guard it too, and call again from the start
    raise Refused("a smoke query kept reaching unguarded databases")  # pragma: no cover
