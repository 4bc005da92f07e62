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
from collections.abc import Iterator
from typing import Any

from django.db import DatabaseError, connections, transaction

from health_deep import backends
from health_deep.backends import Failure
from health_deep.findings import Finding

__all__ = ["Failure", "Refused", "classify", "failure_finding", "guarded"]

logger = logging.getLogger("health_deep")


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
    backend = backends.get(connection.vendor)
    restore: list[str] = []
    try:
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            outermost = len(connection.atomic_blocks) == 1
            try:
                restore = backend.limit(connection, cursor, timeout)
                with backend.deadline(connection, timeout):
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


def classify(exc: BaseException) -> Failure:
    """Map a driver error to a :class:`Failure` by its error code, never its message alone
    (a message can quote a column named ``timeout``). Each vendor home knows its driver's."""
    if isinstance(exc, Refused):
        return Failure.READ_ONLY
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
