"""The guard on PostgreSQL: limits as ``SET LOCAL``, failures by SQLSTATE."""

from __future__ import annotations

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


def limit(cursor: Any, timeout: float) -> list[str]:
    """``SET LOCAL`` ends with the (sub)transaction: nothing leaks into the app's session."""
    ms = max(1, int(timeout * 1000))
    cursor.execute(
        f"SET LOCAL statement_timeout = {ms}; SET LOCAL lock_timeout = {ms}; "
        "SET LOCAL idle_in_transaction_session_timeout = 0; "
        "SET LOCAL transaction_read_only = on"
    )
    return []


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
