"""The guard on SQLite: ``PRAGMA`` limits put back as found, a progress handler as statement
timeout, failures by the driver's error name."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from typing import Any

from health_deep.backends.base import Failure


def limit(cursor: Any, timeout: float) -> list[str]:
    # PRAGMAs are per connection, not per transaction: put the old values back after (the
    # query_only one too: an alias the site configured read-only stays read-only).
    cursor.execute("SELECT * FROM pragma_busy_timeout, pragma_query_only")  # both in one read
    previous, was_query_only = cursor.fetchone()
    cursor.execute(f"PRAGMA busy_timeout = {max(1, int(timeout * 1000))}")
    cursor.execute("PRAGMA query_only = ON")
    return [
        f"PRAGMA query_only = {'ON' if was_query_only else 'OFF'}",
        f"PRAGMA busy_timeout = {int(previous)}",
    ]


@contextlib.contextmanager
def deadline(raw: Any, timeout: float) -> Iterator[None]:
    """SQLite has no statement timeout: interrupt a query that runs past the deadline."""
    stop = time.monotonic() + timeout
    raw.set_progress_handler(lambda: int(time.monotonic() > stop), 10_000)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 0)


def classify(cause: BaseException) -> Failure | None:
    name = getattr(cause, "sqlite_errorname", None)
    if not isinstance(name, str):
        return None
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_INTERRUPT")):
        return Failure.TIMEOUT
    if name.startswith("SQLITE_READONLY"):
        return Failure.READ_ONLY
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_NOTADB")):
        return Failure.UNREACHABLE
    if name == "SQLITE_ERROR" and str(cause).startswith("no such table"):
        return Failure.MISSING_TABLE
    return Failure.OTHER


def client_limits(params: dict[str, Any], seconds: float) -> dict[str, Any]:
    """The driver's busy timeout bounds the first statement of a connection, which runs
    before the guard sets its own (reading the schema waits on a writer's lock)."""
    return {"timeout": seconds, **params}


def identity(name: str) -> tuple[str, ...]:
    """The database file itself: its absolute path, device and inode (a copy or a file put in
    its place is another database)."""
    path = os.path.abspath(name)
    try:
        info = os.stat(path)
    except OSError:  # in memory, or not created yet
        return (str(name),)
    return (path, str(info.st_dev), str(info.st_ino))
