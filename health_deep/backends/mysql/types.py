"""Type compatibility on MySQL and MariaDB.

Django asks for ``integer``, ``bool``, ``double precision``, ``numeric(10, 2)``; the server
reports ``int(11)``, ``tinyint(1)``, ``double``, ``decimal(10,2)``. Integer display widths
(``int(11)`` vs MySQL 8's ``int``) mean nothing for the values, so integers are judged by their
value ranges, which also settles ``unsigned`` (a ``PositiveIntegerField``) both ways.
"""

from __future__ import annotations

import dataclasses
import functools
import re

from health_deep.backends.base.types import Verdict, digits_verdict, precision_verdict

_ALIASES = {
    "integer": "int",
    "bool": "tinyint",
    "boolean": "tinyint",
    "double precision": "double",
    "real": "double",
    "numeric": "decimal",
    "dec": "decimal",
    "fixed": "decimal",
    "character varying": "varchar",
    "character": "char",
}

_INT_BITS = {"tinyint": 8, "smallint": 16, "mediumint": 24, "int": 32, "bigint": 64}

# Ranked families: a later member holds every value of an earlier one (lengths aside).
_FAMILIES = (
    ("char", "varchar", "tinytext", "text", "mediumtext", "longtext"),
    ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"),
    ("float", "double"),
    ("timestamp", "datetime"),  # timestamp stops in 2038
)

# Different types that round-trip what Django writes (a warning, not an outage).
_COMPATIBLE = {frozenset({"json", "longtext"})}

_KNOWN = (
    set(_INT_BITS)
    | {t for family in _FAMILIES for t in family}
    | {
        "decimal",
        "date",
        "time",
        "year",
        "json",
        "uuid",
        "bit",
        "enum",
        "set",
        "inet4",
        "inet6",
    }
)


@dataclasses.dataclass(frozen=True)
class _Type:
    base: str
    params: tuple[int, ...] = ()
    unsigned: bool = False


def parse(spelling: str) -> _Type:
    text = " ".join(spelling.lower().split())
    words = set(text.split())
    unsigned = "unsigned" in words
    text = re.sub(r"\b(unsigned|signed|zerofill|auto_increment)\b", "", text).strip()
    head, _, tail = text.partition("(")
    params = tuple(int(p) for p in re.findall(r"\d+", tail.partition(")")[0]))
    base = " ".join(head.split())
    base = _ALIASES.get(base, base)
    if base in _INT_BITS:
        params = ()  # display width only
    return _Type(base, params, unsigned)


def _int_range(t: _Type) -> tuple[int, int]:
    bits = _INT_BITS[t.base]
    return (0, 2**bits - 1) if t.unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


@functools.lru_cache(maxsize=4096)
def judge(expected: str, actual: str) -> Verdict:
    """How the column type ``actual`` serves a field whose type is ``expected``."""
    want, have = parse(expected), parse(actual)
    if want.base in _INT_BITS and have.base in _INT_BITS:
        (wlo, whi), (hlo, hhi) = _int_range(want), _int_range(have)
        if (wlo, whi) == (hlo, hhi):
            return Verdict.SAME
        return Verdict.WIDER if hlo <= wlo and hhi >= whi else Verdict.NARROWER
    if want.base == have.base:
        return _same_base(want, have)
    if frozenset({want.base, have.base}) in _COMPATIBLE:
        return Verdict.COMPATIBLE
    for family in _FAMILIES:
        if want.base in family and have.base in family:
            return _by_rank(family, want, have)
    if want.base in _KNOWN and have.base in _KNOWN:
        return Verdict.INCOMPATIBLE
    return Verdict.UNKNOWN


def _same_base(want: _Type, have: _Type) -> Verdict:
    if want.params == have.params:
        return Verdict.SAME
    if want.base == "decimal":
        # MySQL's default: decimal = decimal(10) = decimal(10,0).
        return digits_verdict(want.params or (10,), have.params or (10,))
    if want.base in ("datetime", "time", "timestamp"):
        # MySQL's default: whole seconds.
        return precision_verdict(
            want.params[0] if want.params else 0, have.params[0] if have.params else 0
        )
    w = want.params[0] if want.params else 1
    h = have.params[0] if have.params else 1
    return Verdict.NARROWER if h < w else Verdict.WIDER


def _by_rank(family: tuple[str, ...], want: _Type, have: _Type) -> Verdict:
    if family.index(have.base) < family.index(want.base):
        return Verdict.NARROWER
    if want.params and have.params and have.params[0] < want.params[0]:
        return Verdict.NARROWER  # varchar(10) for a char(32)
    return Verdict.WIDER
