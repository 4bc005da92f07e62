"""Bounded, read-only access to a database for the checks, and what a failure means.

Every probe query runs inside :func:`guarded`: a transaction that is always rolled back, marked
read-only, with a statement and lock timeout set on the server so a migration holding a lock
cannot make a probe hang. A failure is classified by the driver's code and turned into the
one finding every check gives for it (E002/E003/E004). Shared by the connection, migration,
schema and smoke checks, which is why it lives at the top of the package.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, connections, transaction

from health_deep import backends
from health_deep.backends import Failure
from health_deep.findings import Finding
from health_deep.screen import Refused, check_intact, refuse_unsafe

__all__ = [
    "Failure",
    "Line",
    "Refused",
    "Unresponsive",
    "bounded",
    "classify",
    "failure_finding",
    "guarded",
]

logger = logging.getLogger("health_deep")

T = TypeVar("T")


@contextlib.contextmanager
def guarded(
    alias: str, *, timeout: float, screen: bool = False, search_path: list[str] | None = None
) -> Iterator[Any]:
    """A cursor on ``alias`` inside a rolled-back, read-only, time-limited transaction.

    ``screen`` is for user code (registered smoke queries, managers): statements that would
    end the transaction or change the session are refused, and a transaction ended anyway
    (through the driver) is reported when the block ends. ``search_path`` (a vendor with
    schemas) puts those schemas on the search path for the transaction: a tenant's. In a
    thread with a :class:`Line`, each statement's start is noted, so another thread can tell
    one that never returns.
    """
    connection = connections[alias]
    backend = backends.get(connection.vendor)
    restore: list[str] = []
    line: Line | None = getattr(_lines, "line", None)
    with contextlib.ExitStack() as watched:
        if line is not None:
            watched.enter_context(connection.execute_wrapper(line.timing(timeout)))
        try:
            with transaction.atomic(using=alias), connection.cursor() as cursor:
                outermost = len(connection.atomic_blocks) == 1
                try:
                    restore = backend.limit(connection, cursor, timeout)
                    if search_path:
                        backend.use_schemas(cursor, search_path)
                    with backend.deadline(connection, timeout):
                        if not screen:
                            yield cursor
                        else:
                            with connection.execute_wrapper(refuse_unsafe):
                                yield cursor
                            check_intact(connection, outermost=outermost)
                finally:
                    transaction.set_rollback(True, using=alias)
        finally:
            # After the rollback: a failed query forbids further statements inside the block.
            if restore:
                with connection.cursor() as cursor:
                    for statement in restore:
                        cursor.execute(statement)


_lines = threading.local()  # the Line of the running thread, if it has one


class Line:
    """The connections one thread opens for health_deep: with the vendor's client-side limits
    (connect and read timeouts, keepalives), and the means for another thread to cut the one
    it is stuck on.

    Made in the thread that will use them, before it connects: Django keeps one connection
    per alias and thread, so a thread health_deep starts has connections of its own, opened
    on first use. Each statement :func:`guarded` runs notes when it should end at the latest
    and its socket (read in the thread that owns the connection: drivers refuse to be used
    from two threads). :meth:`cut` shuts that socket down from another thread, which frees a
    thread stuck reading from a server or network that went silent (the driver raises, the
    evaluation ends); :meth:`close` closes the connections when the thread's work is done.
    A connection from the site's own pool (``OPTIONS['pool']``) keeps the pool's parameters.
    """

    def __init__(self, *, seconds: float) -> None:
        self._lock = threading.Lock()  # a socket is shut down only while its statement runs
        self._closed = False
        self._due: float | None = None  # when the statement running now should have ended
        self._socket: int | None = None  # the socket it waits on
        for alias in settings.DATABASES:
            wrapper = connections[alias]
            options = wrapper.settings_dict.get("OPTIONS", {})
            if wrapper.connection is None and not options.get("pool"):
                _limit_client(wrapper, seconds)
        _lines.line = self

    def timing(self, timeout: float) -> Any:
        """An execute wrapper that notes each statement's latest end and its socket."""

        def timed(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
            wrapper = context["connection"]
            try:
                fd = backends.get(wrapper.vendor).socket_of(wrapper.connection)
            except Exception:  # the driver does not tell
                fd = None
            with self._lock:
                self._due, self._socket = time.monotonic() + timeout, fd
            try:
                return execute(sql, params, many, context)
            finally:
                with self._lock:
                    self._due = self._socket = None

        return timed

    def overdue(self, *, grace: float) -> bool:
        """A statement has run ``grace`` seconds past its own timeout: the server enforces
        that timeout, so its answer is not coming (a dead host, a dropped connection)."""
        due = self._due
        return due is not None and time.monotonic() > due + grace

    def cut(self) -> int:
        """Shut down the socket of the statement running now; how many were cut (0 or 1)."""
        with self._lock:
            if self._closed or self._socket is None or self._socket < 0:
                return 0
            _shut_down(self._socket)
            return 1

    def close(self) -> None:
        """Close the connections (every evaluation opens its own, so none is left open)."""
        if getattr(_lines, "line", None) is self:
            _lines.line = None
        with self._lock:
            self._closed = True
        for connection in connections.all(initialized_only=True):
            with contextlib.suppress(Exception):  # a cut socket: closing may complain
                connection.close()


class Unresponsive(DatabaseError):
    """A database that stopped answering mid-statement: its connection was cut."""


def bounded(call: Callable[[], T], *, seconds: float, grace: float = 1.0) -> T:
    """``call()`` in a thread of its own whose connections have the client's limits; a
    statement still waiting ``grace`` seconds past its own timeout has its connection cut,
    and :class:`Unresponsive` is raised when the call does not end even then. For commands
    whose budget must hold on the client too (``plan --budget``), not only on the server."""
    future: Future[T] = Future()
    lines: list[Line] = []
    ready = threading.Event()

    def run() -> None:
        line = Line(seconds=seconds)
        lines.append(line)
        ready.set()
        try:
            future.set_result(call())
        except BaseException as exc:
            future.set_exception(exc)
        finally:
            line.close()

    threading.Thread(target=run, name="health_deep bounded", daemon=True).start()
    ready.wait()
    line = lines[0]
    while True:
        try:
            return future.result(timeout=0.1)
        except FutureTimeout:
            if line.overdue(grace=grace):
                break
    # With nothing to cut (SQLite: a file, whose lock waits end by its busy timeout), the
    # statement ends by itself: it gets the budget once more.
    waited = grace if line.cut() else seconds + grace
    try:
        return future.result(timeout=waited)
    except FutureTimeout:
        raise Unresponsive("the database stopped answering; its connection was cut") from None


def _limit_client(wrapper: Any, seconds: float) -> None:
    backend = backends.get(wrapper.vendor)
    original = wrapper.get_connection_params

    def params() -> dict[str, Any]:
        return backend.client_limits(original(), seconds)

    wrapper.get_connection_params = params


def _shut_down(fd: int) -> None:
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # not connected any more
    finally:
        sock.close()


def classify(exc: BaseException) -> Failure:
    """Map a driver error to a :class:`Failure` by its error code, never its message alone
    (a message can quote a column named ``timeout``). Each vendor home knows its driver's."""
    if isinstance(exc, Refused):
        return Failure.READ_ONLY
    if isinstance(exc, Unresponsive):
        return Failure.UNREACHABLE
    cause = exc.__cause__ or exc
    for backend in backends.all_backends():
        kind = backend.classify(cause)
        if kind is not None:
            return kind
    return Failure.OTHER


_FAILURE_IDS = {
    Failure.UNREACHABLE: "health_deep.E002",
    Failure.TIMEOUT: "health_deep.E003",
}


def failure_finding(alias: str, check: str, exc: BaseException) -> Finding:
    """A finding for a check that could not run; the driver's text stays in ``details``."""
    kind = classify(exc)
    fid = _FAILURE_IDS.get(kind, "health_deep.E004")
    messages = {
        "health_deep.E002": f"Database '{alias}' could not be reached.",
        "health_deep.E003": f"The {check} check on '{alias}' did not finish within its timeout.",
        "health_deep.E004": f"The {check} check on '{alias}' failed unexpectedly.",
    }
    logger.warning("health_deep %s check on %r failed: %s", check, alias, type(exc).__name__)
    return Finding(
        id=fid,
        alias=alias,
        object=alias,
        message=messages[fid],
        hint="See the server log; details are shown to authorised callers only.",
        details={"error": type(exc).__name__, "detail": str(exc)[:500]},
    )
