"""Bounded, read-only access to a database for the checks, and what a failure means.

Every probe query runs inside :func:`guarded`: a transaction that is always rolled back, marked
read-only, with a statement and lock timeout set on the server so a migration holding a lock
cannot make a probe hang. A failure is classified by the driver's code and turned into the
one finding every check gives for it (E002/E003/E004). Shared by the connection, migration,
schema and smoke checks, which is why it lives at the top of the package.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import math
import time
from collections.abc import Iterator
from typing import Any

from django.db import DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from health_deep.findings import Finding

logger = logging.getLogger("health_deep")


class Failure(enum.Enum):
    """Why a probe query failed, as far as the driver lets us tell."""

    MISSING_TABLE = "missing_table"
    TIMEOUT = "timeout"
    READ_ONLY = "read_only"  # something tried to write inside the read-only transaction
    UNREACHABLE = "unreachable"
    OTHER = "other"


class Refused(DatabaseError):
    """A statement the guard will not run, or a transaction that user code ended or changed:
    reported as a write (E304)."""


@contextlib.contextmanager
def guarded(alias: str, *, timeout: float, screen: bool = False) -> Iterator[Any]:
    """A cursor on ``alias`` inside a rolled-back, read-only, time-limited transaction.

    ``screen`` is for user code (registered smoke queries, managers): statements that would
    end the transaction or change the session are refused, and a transaction ended anyway
    (through the driver) is reported when the block ends.
    """
    from health_deep import userguard  # it builds on Refused, defined here

    connection = connections[alias]
    restore: list[str] = []
    try:
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            outermost = len(connection.atomic_blocks) == 1
            try:
                restore = _limit(connection, cursor, timeout)
                with _sqlite_deadline(connection, timeout):
                    if not screen:
                        yield cursor
                    else:
                        with connection.execute_wrapper(userguard.screen):
                            yield cursor
                        userguard.check_intact(connection, outermost=outermost)
            finally:
                transaction.set_rollback(True, using=alias)
    finally:
        # After the rollback: a failed query forbids further statements inside the block.
        if restore:
            with connection.cursor() as cursor:
                for statement in restore:
                    cursor.execute(statement)


@contextlib.contextmanager
def _sqlite_deadline(connection: BaseDatabaseWrapper, timeout: float) -> Iterator[None]:
    """SQLite has no statement timeout: interrupt a query that runs past the deadline."""
    if connection.vendor != "sqlite":
        yield
        return
    stop = time.monotonic() + timeout
    raw = connection.connection
    raw.set_progress_handler(lambda: int(time.monotonic() > stop), 10_000)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 0)


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
        # PRAGMAs are per connection, not per transaction: put the old values back after
        # (query_only too: an alias the site configured read-only stays read-only).
        cursor.execute("PRAGMA busy_timeout")
        previous = cursor.fetchone()[0]
        cursor.execute("PRAGMA query_only")
        was_query_only = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA busy_timeout = {ms}")
        cursor.execute("PRAGMA query_only = ON")
        return [f"PRAGMA query_only = {'ON' if was_query_only else 'OFF'}",
                f"PRAGMA busy_timeout = {int(previous)}"]
    if vendor == "mysql":
        return _limit_mysql(connection, cursor, timeout)
    return []


def _limit_mysql(connection: BaseDatabaseWrapper, cursor: Any, timeout: float) -> list[str]:
    # The characteristic applies to the transaction about to start, so it must come first.
    # Inside the caller's own transaction (a savepoint) MySQL refuses it (1568): the rollback
    # still undoes any write, but a write is no longer refused, so E304 cannot be seen there.
    # DDL commits on MySQL before any transaction rule applies: only DML is refused.
    if len(connection.atomic_blocks) == 1:  # ours is the outermost: no transaction yet
        # Started here rather than by the first statement, so @@in_transaction tells when
        # user code ended it.
        cursor.execute("START TRANSACTION READ ONLY")
    # Session variables outlive the transaction: read them to put them back afterwards.
    # MariaDB's max_statement_time is in seconds, MySQL's max_execution_time in ms (SELECT
    # only). lock_wait_timeout bounds the wait for a metadata lock (an ALTER TABLE's).
    timer = "max_statement_time" if connection.mysql_is_mariadb else "max_execution_time"  # type: ignore[attr-defined]
    cursor.execute(f"SELECT @@SESSION.{timer}, @@SESSION.lock_wait_timeout")
    previous_timer, previous_lock = cursor.fetchone()
    value = f"{timeout:.3f}" if timer == "max_statement_time" else str(max(1, int(timeout * 1000)))
    cursor.execute(f"SET SESSION {timer} = {value}, "
                   f"SESSION lock_wait_timeout = {max(1, math.ceil(timeout))}")
    return [f"SET SESSION {timer} = {previous_timer}, "
            f"SESSION lock_wait_timeout = {int(previous_lock)}"]


_SQLSTATE = {
    "42P01": Failure.MISSING_TABLE,  # undefined_table
    "57014": Failure.TIMEOUT,  # query_canceled (statement_timeout)
    "55P03": Failure.TIMEOUT,  # lock_not_available (lock_timeout)
    "25006": Failure.READ_ONLY,  # read_only_sql_transaction
    "3D000": Failure.UNREACHABLE,  # invalid_catalog_name: the database does not exist
    "53300": Failure.UNREACHABLE,  # too_many_connections
    "57P01": Failure.UNREACHABLE,  # admin_shutdown
    "57P02": Failure.UNREACHABLE,  # crash_shutdown
    "57P03": Failure.UNREACHABLE,  # cannot_connect_now (starting up, in recovery)
}
# SQLSTATE classes that mean "no usable connection": 08 connection exception, 28 invalid
# authorization (a wrong password).
_SQLSTATE_CLASSES = {"08": Failure.UNREACHABLE, "28": Failure.UNREACHABLE}
_MYSQL_ERRNO = {
    1146: Failure.MISSING_TABLE,
    3024: Failure.TIMEOUT,  # MySQL max_execution_time
    1969: Failure.TIMEOUT,  # MariaDB max_statement_time
    1205: Failure.TIMEOUT,  # lock wait timeout
    1792: Failure.READ_ONLY,  # statement in a READ ONLY transaction
    # No usable connection: the same E002 PostgreSQL gives for the same fault.
    1040: Failure.UNREACHABLE,  # too many connections
    1044: Failure.UNREACHABLE,  # access denied to the database
    1045: Failure.UNREACHABLE,  # access denied (wrong user or password)
    1049: Failure.UNREACHABLE,  # unknown database
    1129: Failure.UNREACHABLE,  # host blocked after too many connection errors
    1130: Failure.UNREACHABLE,  # host not allowed to connect
    2002: Failure.UNREACHABLE,
    2003: Failure.UNREACHABLE,
    2006: Failure.UNREACHABLE,
    2005: Failure.UNREACHABLE,  # unknown server host
    2013: Failure.UNREACHABLE,
}


def classify(exc: BaseException) -> Failure:
    """Map a driver error to a :class:`Failure` by its error code, never its message alone
    (a message can quote a column named ``timeout``)."""
    if isinstance(exc, Refused):
        return Failure.READ_ONLY
    cause = exc.__cause__ or exc
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if isinstance(sqlstate, str):
        if sqlstate in _SQLSTATE:
            return _SQLSTATE[sqlstate]
        return _SQLSTATE_CLASSES.get(sqlstate[:2], Failure.OTHER)
    sqlite = getattr(cause, "sqlite_errorname", None)
    if isinstance(sqlite, str):
        return _sqlite(sqlite, str(cause))
    args = getattr(cause, "args", ())
    if args and isinstance(args[0], int):
        return _MYSQL_ERRNO.get(args[0], Failure.OTHER)
    if type(cause).__module__.startswith("psycopg"):
        return Failure.UNREACHABLE  # no SQLSTATE at all: the connection itself failed
    return Failure.OTHER


def _sqlite(name: str, text: str) -> Failure:
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_INTERRUPT")):
        return Failure.TIMEOUT
    if name.startswith("SQLITE_READONLY"):
        return Failure.READ_ONLY
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_NOTADB")):
        return Failure.UNREACHABLE
    if name == "SQLITE_ERROR" and text.startswith("no such table"):
        return Failure.MISSING_TABLE
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
