"""Bounded, read-only access to a database for the checks, and what a failure means.

Every probe query runs inside :func:`guarded`: a transaction that is always rolled back, marked
read-only, with a statement and lock timeout set on the server so a migration holding a lock
cannot make a probe hang. Shared by the migration, schema and smoke checks, which is why it
lives at the top of the package rather than under one of them.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator
from typing import Any

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper


class Failure(enum.Enum):
    """Why a probe query failed, as far as the driver lets us tell."""

    MISSING_TABLE = "missing_table"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    OTHER = "other"


@contextlib.contextmanager
def guarded(alias: str, *, timeout: float) -> Iterator[Any]:
    """A cursor on ``alias`` inside a rolled-back, read-only, time-limited transaction."""
    connection = connections[alias]
    restore: list[str] = []
    try:
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            try:
                restore = _limit(connection, cursor, timeout)
                yield cursor
            finally:
                transaction.set_rollback(True, using=alias)
    finally:
        # After the rollback: a failed query forbids further statements inside the block.
        if restore:
            with connection.cursor() as cursor:
                for statement in restore:
                    cursor.execute(statement)


def _limit(connection: BaseDatabaseWrapper, cursor: Any, timeout: float) -> list[str]:
    """Apply server-side limits; return statements that undo any that outlive the transaction."""
    ms = max(1, int(timeout * 1000))
    vendor = connection.vendor
    if vendor == "postgresql":
        # SET LOCAL ends with the (sub)transaction, so nothing leaks into the app's session.
        cursor.execute(
            f"SET LOCAL statement_timeout = {ms}; SET LOCAL lock_timeout = {ms}; "
            "SET LOCAL idle_in_transaction_session_timeout = 0; "
            "SET LOCAL transaction_read_only = on"
        )
        return []
    if vendor == "sqlite":
        # PRAGMAs are per connection, not per transaction: put the old values back after.
        cursor.execute("PRAGMA busy_timeout")
        previous = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA busy_timeout = {ms}")
        cursor.execute("PRAGMA query_only = ON")
        return ["PRAGMA query_only = OFF", f"PRAGMA busy_timeout = {int(previous)}"]
    if vendor == "mysql":
        if connection.mysql_is_mariadb:  # type: ignore[attr-defined]
            cursor.execute(f"SET SESSION max_statement_time = {ms / 1000:.3f}")
            return ["SET SESSION max_statement_time = 0"]
        cursor.execute(f"SET SESSION max_execution_time = {ms}")
        return ["SET SESSION max_execution_time = 0"]
    return []


_SQLSTATE = {
    "42P01": Failure.MISSING_TABLE,  # undefined_table
    "57014": Failure.TIMEOUT,  # query_canceled (statement_timeout)
    "55P03": Failure.TIMEOUT,  # lock_not_available (lock_timeout)
}
_MYSQL_ERRNO = {
    1146: Failure.MISSING_TABLE,
    3024: Failure.TIMEOUT,  # MySQL max_execution_time
    1969: Failure.TIMEOUT,  # MariaDB max_statement_time
    1205: Failure.TIMEOUT,  # lock wait timeout
    2002: Failure.UNREACHABLE,
    2003: Failure.UNREACHABLE,
    2006: Failure.UNREACHABLE,
    2013: Failure.UNREACHABLE,
}


def classify(exc: BaseException) -> Failure:
    """Map a driver error to a :class:`Failure` without showing its text to anyone."""
    cause = exc.__cause__ or exc
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if isinstance(sqlstate, str):
        if sqlstate in _SQLSTATE:
            return _SQLSTATE[sqlstate]
        if sqlstate.startswith("08"):
            return Failure.UNREACHABLE
    args = getattr(cause, "args", ())
    if args and isinstance(args[0], int) and args[0] in _MYSQL_ERRNO:
        return _MYSQL_ERRNO[args[0]]
    text = str(cause).lower()
    if "no such table" in text:
        return Failure.MISSING_TABLE
    if "database is locked" in text or "interrupted" in text or "timeout" in text:
        return Failure.TIMEOUT
    if "connection" in text or "could not connect" in text or "unable to open" in text:
        return Failure.UNREACHABLE
    return Failure.OTHER
