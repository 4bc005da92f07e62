"""The guard on MySQL and MariaDB: a read-only transaction, session limits put back as found,
failures by the server's error number."""

from __future__ import annotations

import math
from typing import Any

from health_deep.backends.base import Failure

_ERRNO = {
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
    2002: Failure.UNREACHABLE,  # can't connect through the socket
    2003: Failure.UNREACHABLE,  # can't connect to the server
    2005: Failure.UNREACHABLE,  # unknown server host
    2006: Failure.UNREACHABLE,  # server has gone away
    2013: Failure.UNREACHABLE,  # lost connection during a query
}


def limit(connection: Any, cursor: Any, timeout: float) -> list[str]:
    # The characteristic applies to the transaction about to start, so it must come first.
    # Inside the caller's own transaction (a savepoint) MySQL refuses it (1568): the rollback
    # still undoes any write, but a write is no longer refused, so E304 cannot be seen there.
    # DDL commits on MySQL before any transaction rule applies: the user-code guard refuses
    # it by its first keyword.
    if len(connection.atomic_blocks) == 1:  # ours is the outermost: no transaction yet
        # Started here rather than by the first statement, so @@in_transaction tells when
        # user code ended it.
        cursor.execute("START TRANSACTION READ ONLY")
    # Session variables outlive the transaction: read them to put them back afterwards.
    # MariaDB's max_statement_time is in seconds, MySQL's max_execution_time in ms (SELECT
    # only). lock_wait_timeout bounds the wait for a metadata lock (an ALTER TABLE's).
    timer = "max_statement_time" if connection.mysql_is_mariadb else "max_execution_time"
    cursor.execute(f"SELECT @@SESSION.{timer}, @@SESSION.lock_wait_timeout")
    previous_timer, previous_lock = cursor.fetchone()
    value = f"{timeout:.3f}" if timer == "max_statement_time" else str(max(1, int(timeout * 1000)))
    cursor.execute(
        f"SET SESSION {timer} = {value}, SESSION lock_wait_timeout = {max(1, math.ceil(timeout))}"
    )
    return [
        f"SET SESSION {timer} = {previous_timer}, SESSION lock_wait_timeout = {int(previous_lock)}"
    ]


def classify(cause: BaseException) -> Failure | None:
    args = getattr(cause, "args", ())
    if args and isinstance(args[0], int) and not isinstance(args[0], bool):
        return _ERRNO.get(args[0], Failure.OTHER)
    return None


def transaction_ended(connection: Any, *, outermost: bool) -> bool | None:
    # Only MariaDB tells (@@in_transaction), and only where the guard itself started the
    # transaction: a caller's transaction that has touched no table yet is not "in
    # transaction" to MariaDB either. MySQL 8: the statement screen only.
    if not (outermost and connection.mysql_is_mariadb):
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@in_transaction")
        return not int(cursor.fetchone()[0])


# Seconds the client waits past the server's own statement limits before it gives up.
CLIENT_MARGIN = 2


def client_limits(params: dict[str, Any], seconds: float) -> dict[str, Any]:
    """mysqlclient's socket timeouts: a server that stops answering mid-query raises (2013)
    instead of holding the thread. They are the backstop, set past the server's own limits
    (``max_statement_time``, ``lock_wait_timeout``: ``seconds`` rounded up), so a statement
    the server ends in time is reported as the timeout it is, never as a lost server."""
    whole = max(2, math.ceil(seconds))
    backstop = whole + CLIENT_MARGIN
    limits = {"connect_timeout": whole, "read_timeout": backstop, "write_timeout": backstop}
    return {**limits, **params}  # what the site chose wins


def socket_of(raw: Any) -> int | None:
    return int(raw.fileno()) if getattr(raw, "open", False) else None


def identity(cursor: Any, *, mariadb: bool) -> tuple[str, ...]:
    """The server (MySQL's ``server_uuid``; MariaDB has ``server_id``), its host name and port,
    the database and the account actually used."""
    server = "@@server_id" if mariadb else "@@server_uuid"
    cursor.execute(f"SELECT {server}, @@hostname, @@port, DATABASE(), CURRENT_USER()")
    return tuple(str(v) for v in cursor.fetchone())
