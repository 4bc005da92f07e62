"""Type compatibility on PostgreSQL.

Django asks for ``varchar(100)``, ``serial``, ``timestamp with time zone``; the catalog
answers ``character varying(100)``, ``integer`` with a default, ``timestamptz``. Both sides are
parsed into a base name and parameters, then judged within ranked families.
"""

from __future__ import annotations

import dataclasses
import functools
import re

from health_deep.backends.base.types import Verdict, digits_verdict, precision_verdict


@dataclasses.dataclass(frozen=True)
class Parsed:
    base: str
    params: tuple[int, ...] = ()
    array: bool = False


_ALIASES = {
    "character varying": "varchar",
    "character": "char",
    "bpchar": "char",
    "int": "integer",
    "int4": "integer",
    "serial": "integer",
    "serial4": "integer",
    "int8": "bigint",
    "bigserial": "bigint",
    "serial8": "bigint",
    "int2": "smallint",
    "smallserial": "smallint",
    "serial2": "smallint",
    "bool": "boolean",
    "float8": "double precision",
    "float4": "real",
    "decimal": "numeric",
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
    "timetz": "time with time zone",
    "time": "time without time zone",
}

# Within a family a wider member holds every value of a narrower one.
_FAMILIES = [
    ("smallint", "integer", "bigint"),
    ("char", "varchar", "text"),
    ("real", "double precision"),
]

# Different types that still round-trip what Django writes (reported as warnings).
_COMPATIBLE = {
    frozenset({"json", "jsonb"}),
    frozenset({"citext", "text"}),
    frozenset({"citext", "varchar"}),
}

_ARRAY = re.compile(r"(\[\d*\])+$")


def parse(spelling: str) -> Parsed:
    text = " ".join(spelling.strip().lower().split())
    array = _ARRAY.search(text)
    if array:
        text = text[: array.start()].rstrip()
    params = ""
    if "(" in text and ")" in text:
        # "numeric(10,2)", and "timestamp(3) with time zone" with the modifier mid-name.
        head, _, tail = text.partition("(")
        params, _, rest = tail.partition(")")
        text = f"{head.strip()} {rest.strip()}".strip()
    base = text.replace('"', "").rsplit(".", 1)[-1]  # qualified outside the search_path
    base = _ALIASES.get(base, base)
    numbers = tuple(int(p) for p in re.findall(r"\d+", params))
    return Parsed(base, numbers, array is not None)


@functools.lru_cache(maxsize=4096)
def judge(expected: str, actual: str) -> Verdict:
    """How the column type ``actual`` serves a field whose type is ``expected``."""
    return _judge_parsed(parse(expected), parse(actual))


def _judge_parsed(want: Parsed, have: Parsed) -> Verdict:
    if want.array != have.array:
        return Verdict.INCOMPATIBLE
    if want.base == have.base:
        return _compare_params(want, have)
    if frozenset({want.base, have.base}) in _COMPATIBLE:
        return Verdict.COMPATIBLE
    for family in _FAMILIES:
        if want.base in family and have.base in family:
            return _by_rank(family.index(want.base), family.index(have.base), want, have)
    if _is_known(want.base) and _is_known(have.base):
        return Verdict.INCOMPATIBLE
    return Verdict.UNKNOWN


def _by_rank(want_rank: int, have_rank: int, want: Parsed, have: Parsed) -> Verdict:
    if want.base == "char" and have.base == "varchar":
        # varchar(n) holds what char(n) holds, without the blank padding.
        h, w = _length(have), _length(want)
        return Verdict.COMPATIBLE if h is None or (w is not None and h >= w) else Verdict.NARROWER
    if have_rank > want_rank:
        limit = _length(have)
        return Verdict.WIDER if limit is None or limit >= (_length(want) or 0) else Verdict.NARROWER
    return Verdict.NARROWER


def _length(parsed: Parsed) -> int | None:
    # None is unlimited: text, varchar with no length.
    return parsed.params[0] if parsed.base in ("char", "varchar") and parsed.params else None


def _compare_params(want: Parsed, have: Parsed) -> Verdict:
    if want.params == have.params:
        return Verdict.SAME
    if want.base in ("varchar", "char", "bit varying", "bit"):
        w, h = _length(want), _length(have)
        if h is None:
            return Verdict.WIDER
        if w is None or h < w:
            return Verdict.NARROWER
        return Verdict.WIDER
    if want.base == "numeric":
        if not have.params:
            return Verdict.WIDER  # unconstrained numeric holds any precision
        if not want.params:
            return Verdict.NARROWER
        return digits_verdict(want.params, have.params)
    if want.base.startswith(("timestamp", "time", "interval")):
        return precision_verdict(
            want.params[0] if want.params else 6, have.params[0] if have.params else 6
        )
    return Verdict.UNKNOWN


_KNOWN = {
    "smallint",
    "integer",
    "bigint",
    "numeric",
    "real",
    "double precision",
    "boolean",
    "char",
    "varchar",
    "text",
    "bytea",
    "date",
    "time without time zone",
    "time with time zone",
    "timestamp without time zone",
    "timestamp with time zone",
    "interval",
    "uuid",
    "json",
    "jsonb",
    "inet",
    "cidr",
    "macaddr",
    "citext",
    "hstore",
    "int4range",
    "int8range",
    "numrange",
    "daterange",
    "tsrange",
    "tstzrange",
    "tsvector",
}


def _is_known(base: str) -> bool:
    return base in _KNOWN
