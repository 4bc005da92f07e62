"""The guard on PostgreSQL: limits as ``SET LOCAL``, failures by SQLSTATE."""

from __future__ import annotations

import math
from typing import Any

from health_deep.backends.base import Failure

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


IDLE_IN_TRANSACTION_MS = 5000  # a probe's transaction that goes quiet this long is ended


def limit(cursor: Any, timeout: float) -> list[str]:
    """``SET LOCAL`` ends with the (sub)transaction: nothing leaks into the app's session.

    The server ends a guarded transaction left idle for a few seconds (a client that went
    away or stopped reading), so it never holds its locks for longer than that; never less
    than ten statement timeouts, so the client's own work between statements cannot trip it.
    """
    ms = max(1, int(timeout * 1000))
    idle = max(IDLE_IN_TRANSACTION_MS, 10 * ms)
    # No JIT: on a catalog of many thousand relations (a site with a schema per tenant) the
    # planner overestimates the catalog queries and compiles them, 0.45 s of compiling for
    # 6 ms of reading; a probe's statements are never worth compiling.
    cursor.execute(
        f"SET LOCAL statement_timeout = {ms}; SET LOCAL lock_timeout = {ms}; "
        f"SET LOCAL idle_in_transaction_session_timeout = {idle}; "
        "SET LOCAL transaction_read_only = on; SET LOCAL jit = off"
    )
    return []


def quote_name(name: str) -> str:
    """An identifier, quoted as PostgreSQL reads it."""
    return '"' + name.replace('"', '""') + '"'


def use_schemas(cursor: Any, schemas: list[str]) -> None:
    """``SET LOCAL search_path``: ends with the transaction, as the guard's limits do."""
    cursor.execute("SET LOCAL search_path TO " + ", ".join(quote_name(s) for s in schemas))


def client_limits(params: dict[str, Any], seconds: float) -> dict[str, Any]:
    """libpq's own limits: a connect timeout, TCP keepalives, and a TCP user timeout (data
    unacknowledged that long breaks the connection). Ignored on a Unix socket."""
    whole = max(2, math.ceil(seconds))
    limits = {
        "connect_timeout": whole,
        "keepalives": 1,
        "keepalives_idle": whole,
        "keepalives_interval": 1,
        "keepalives_count": 3,
        "tcp_user_timeout": whole * 1000,
    }
    return {**limits, **params}  # what the site chose wins


def socket_of(raw: Any) -> int | None:
    if raw.closed:
        return None
    pgconn = getattr(raw, "pgconn", None)  # psycopg 3; psycopg2 has fileno()
    return int(pgconn.socket if pgconn is not None else raw.fileno())


def classify(cause: BaseException) -> Failure | None:
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if isinstance(sqlstate, str):
        return _SQLSTATE.get(sqlstate) or _SQLSTATE_CLASSES.get(sqlstate[:2], Failure.OTHER)
    if type(cause).__module__.startswith(("psycopg", "psycopg2")):
        return Failure.UNREACHABLE  # no SQLSTATE at all: the connection itself failed
    return None


def transaction_ended(raw: Any) -> bool:
    info = getattr(raw, "info", None)  # psycopg 3
    status = info.transaction_status if info is not None else raw.get_transaction_status()
    return int(status) == 0  # IDLE: no transaction open


def identity(cursor: Any) -> tuple[str, ...]:
    """The server (its cluster's system identifier where this user may read it, its address
    and port as the server sees them), the database (name and oid), the user and the search
    path: two environments behind identical settings differ in at least one."""
    cursor.execute(
        "SELECT coalesce(inet_server_addr()::text, ''), coalesce(inet_server_port(), 0), "
        "current_database(), (SELECT oid FROM pg_database WHERE datname = current_database()), "
        "current_user, current_setting('search_path'), "
        "has_function_privilege('pg_control_system()', 'EXECUTE')"
    )
    *found, may_read_control = cursor.fetchone()
    system = ""
    if may_read_control:
        cursor.execute("SELECT system_identifier FROM pg_control_system()")
        system = str(cursor.fetchone()[0])
    return (system, *(str(v) for v in found))
