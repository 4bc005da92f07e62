"""Type compatibility on SQLite.

SQLite stores by type affinity and enforces neither length nor precision, so two declared
types are compatible when their affinities are; the declared spelling differing is a hint,
except where a converter reads the declared name (bool, date, datetime, decimal, ...).
"""

from __future__ import annotations

import functools
import re

from health_deep.backends.base.types import Verdict, fold


def affinity(declared: str) -> str:
    """SQLite's column affinity for a declared type (the rules of section 3.1 of its docs)."""
    upper = declared.upper()
    if "INT" in upper:
        return "INTEGER"
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in upper or not upper.strip():
        return "BLOB"
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


_SQLITE_NUMBERS = {"INTEGER", "REAL", "NUMERIC"}


@functools.lru_cache(maxsize=4096)
def judge(expected: str, actual: str) -> Verdict:
    """How the column type ``actual`` serves a field whose type is ``expected``."""
    want, have = affinity(expected), affinity(actual)
    same_base = re.sub(r"\(.*\)", "", fold(expected)) == re.sub(r"\(.*\)", "", fold(actual))
    if want == have == "INTEGER":
        # integer, bigint, smallint, "integer unsigned": one storage class of up to 8 bytes,
        # and no converter reads the declared name. Django itself leaves them mixed: an
        # AutoField -> BigAutoField change keeps the foreign key columns that point at it.
        return Verdict.SAME
    if want == have:
        return Verdict.SAME if same_base else Verdict.COMPATIBLE
    if want in _SQLITE_NUMBERS and have in _SQLITE_NUMBERS:
        return Verdict.COMPATIBLE
    return Verdict.INCOMPATIBLE
