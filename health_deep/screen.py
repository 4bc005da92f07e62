"""The statement screen for user code under the guard, and the error it raises.

What a read-only probe must never run (transaction control, session changes, DDL, locks held
past the transaction) is refused by its first keyword or by a call inside a SELECT; a
transaction ended anyway (a commit through the driver) is told by the vendor when it can. The
guard (:mod:`health_deep.dbguard`) applies it to every block that runs user code; the code that
calls user code (:mod:`health_deep.userguard`) builds on the guard.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper

from health_deep import backends


class Refused(DatabaseError):
    """A statement the guard will not run, or a transaction that user code ended or changed:
    reported as a write (E304)."""


# First keywords a read-only probe never needs: transaction control, session and schema
# changes, locks, file access. ORM querysets never start with any of them.
_REFUSED_STATEMENT = re.compile(
    r"^\s*(?:/\*.*?\*/\s*)*(COMMIT|ROLLBACK|BEGIN|START|END|SAVEPOINT|RELEASE|SET|RESET|"
    r"DISCARD|CREATE|ALTER|DROP|TRUNCATE|RENAME|GRANT|REVOKE|LOCK|UNLOCK|PRAGMA|ATTACH|"
    r"DETACH|VACUUM|REINDEX|COPY|LISTEN|NOTIFY|LOAD|HANDLER|FLUSH|KILL|INSTALL|DO|CALL|"
    r"PREPARE|EXECUTE|DEALLOCATE|XA)\b",
    re.IGNORECASE | re.DOTALL,
)
# Functions that change the session from inside a SELECT: locks held past the transaction,
# user variables, settings.
_REFUSED_CALL = re.compile(
    r"\b(pg_advisory_lock|pg_advisory_lock_shared|pg_try_advisory_lock|"
    r"pg_try_advisory_lock_shared|set_config|get_lock|release_lock|release_all_locks)\s*\(|:=",
    re.IGNORECASE,
)


def refuse_unsafe(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    """Execute wrapper: refuse what a read-only probe must never run."""
    if _REFUSED_STATEMENT.match(sql) or _REFUSED_CALL.search(sql):
        raise Refused(f"health_deep refused a statement in a smoke query: {sql[:120]!r}")
    return execute(sql, params, many, context)


def check_intact(connection: BaseDatabaseWrapper, *, outermost: bool) -> None:
    """Raise :class:`Refused` when the guard's transaction was ended under it (a commit
    through the driver): what ran after it was not rolled back."""
    if backends.get(connection.vendor).transaction_ended(connection, outermost=outermost):
        raise Refused(
            "a smoke query ended the guard's transaction: what it ran afterwards "
            "was not rolled back"
        )
