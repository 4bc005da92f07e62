"""``smoke.lock``: the recorded queries of each endpoint, committed beside ``migrations.lock``.

JSON, in a stable order so a diff in review shows what changed::

    {
      "health_deep_smoke_lock": 1,
      "endpoints": {
        "/notes/<int:pk>/": {
          "name": "notes:detail",
          "statements": [
            {"alias": "default", "sql": "SELECT ... WHERE \\"notes_note\\".\\"id\\" = %s",
             "params": [{"int": 1}]}
          ]
        }
      }
    }

Only the statements and one example value of each parameter are kept: no result rows, ever.
Each value is tagged with its type so it reads back as it was recorded. A file that is not
this, too large, or holding anything but single plain SELECTs is refused as a whole with the
reason (:class:`Invalid`), never partly used.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime
import decimal
import json
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FORMAT = 1
MAX_BYTES = 5 * 2**20
MAX_ENDPOINTS = 5000
MAX_STATEMENTS = 25  # per endpoint: past it, the first ones are kept
MAX_SQL = 20_000  # characters of one statement
MAX_PARAMS = 200


# What a lockfile may hold, and so all a recording keeps: a plain read, SELECT or WITH ...
# SELECT, that writes and locks nothing.
_READ = re.compile(r"^\s*(?:/\*.*?\*/\s*)*(SELECT|WITH)\b", re.IGNORECASE | re.DOTALL)
_WRITES = re.compile(
    r"\b(INSERT|UPDATE|DELETE|MERGE)\b|\bFOR\s+(UPDATE|SHARE|NO\s+KEY\s+UPDATE|KEY\s+SHARE)\b"
    r"|\bLOCK\s+IN\s+SHARE\s+MODE\b|\bINTO\b",
    re.IGNORECASE,
)


def is_plain_read(sql: str) -> bool:
    """A SELECT that neither writes (a data-modifying CTE, SELECT INTO) nor locks rows."""
    return bool(_READ.match(sql)) and not _WRITES.search(_strip_strings(sql))


def _strip_strings(sql: str) -> str:
    """``sql`` with its string literals and quoted names emptied (they may hold any word)."""
    return re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`", "''", sql)


class Invalid(ValueError):
    """A smoke lockfile that is refused, and why."""


@dataclasses.dataclass(frozen=True)
class Statement:
    alias: str
    sql: str
    params: tuple[Any, ...]
    """As written in the file (tagged: ``{"int": 1}``); :meth:`values` reads them back."""

    def values(self) -> list[Any]:
        return [decode(p) for p in self.params]


@dataclasses.dataclass
class Endpoint:
    name: str
    statements: list[Statement] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Recording:
    """Endpoints by route, each with its distinct statements."""

    endpoints: dict[str, Endpoint] = dataclasses.field(default_factory=dict)

    def add(self, *, route: str, name: str, alias: str, sql: str, params: Any) -> bool:
        """Keep a statement an endpoint ran; False when it adds nothing (known, capped,
        too long, or parameters that cannot be written down)."""
        if len(sql) > MAX_SQL or not _single(sql):
            return False
        try:
            values = tuple(encode(p) for p in (params or ()))
        except TypeError:
            return False  # a parameter type with no faithful spelling: left out
        endpoint = self.endpoints.setdefault(route, Endpoint(name))
        if any(s.alias == alias and s.sql == sql for s in endpoint.statements):
            return False
        if len(endpoint.statements) >= MAX_STATEMENTS or len(values) > MAX_PARAMS:
            return False
        endpoint.statements.append(Statement(alias, sql, values))
        return True

    def merged(self, other: Recording) -> Recording:
        """This recording with ``other``'s endpoints and statements added."""
        result = Recording(
            {r: Endpoint(e.name, list(e.statements)) for r, e in self.endpoints.items()}
        )
        for route, endpoint in other.endpoints.items():
            for s in endpoint.statements:
                result.add(
                    route=route,
                    name=endpoint.name,
                    alias=s.alias,
                    sql=s.sql,
                    params=[decode(p) for p in s.params],
                )
        return result


def _single(sql: str) -> bool:
    """One statement: no semicolon outside string literals and quoted names."""
    bare = re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`", "", sql)
    return ";" not in bare.rstrip().rstrip(";")


def encode(value: Any) -> Any:
    """A parameter as JSON with its type: ``{"int": 1}``, ``{"list": [...]}``, ``None``."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return {"list": [encode(v) for v in value]}
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": int(value)}  # an IntEnum's value, not its name
    if isinstance(value, float):
        return {"float": float(value)}
    if isinstance(value, str):
        return {"str": str(value)}
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return {"decimal" if isinstance(value, decimal.Decimal) else "uuid": str(value)}
    if isinstance(value, datetime.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"date": value.isoformat()}
    if isinstance(value, datetime.time):
        return {"time": value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {"seconds": value.total_seconds()}
    if isinstance(value, bytes | memoryview):
        return {"bytes": base64.b64encode(bytes(value)).decode()}
    raise TypeError(f"cannot write down a {type(value).__name__} parameter")


def decode(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) != 1:
        raise Invalid(f"a parameter is not a tagged value: {str(value)[:80]!r}")
    [(tag, raw)] = value.items()
    readers: dict[str, Any] = {
        "list": lambda v: [decode(x) for x in _listed(v)],
        "bool": lambda v: _typed(v, bool),
        "int": lambda v: _typed(v, int),
        "float": lambda v: _typed(v, int | float),
        "str": lambda v: _typed(v, str),
        "decimal": lambda v: decimal.Decimal(_typed(v, str)),
        "datetime": lambda v: datetime.datetime.fromisoformat(_typed(v, str)),
        "date": lambda v: datetime.date.fromisoformat(_typed(v, str)),
        "time": lambda v: datetime.time.fromisoformat(_typed(v, str)),
        "seconds": lambda v: datetime.timedelta(seconds=_typed(v, int | float)),
        "uuid": lambda v: uuid.UUID(_typed(v, str)),
        "bytes": lambda v: base64.b64decode(_typed(v, str), validate=True),
    }
    if tag not in readers:
        raise Invalid(f"a parameter has an unknown type {tag!r}")
    try:
        return readers[tag](raw)
    except (ValueError, TypeError, decimal.InvalidOperation) as exc:
        raise Invalid(f"a {tag} parameter cannot be read: {exc}") from None


def _typed(value: Any, kind: Any) -> Any:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise TypeError(f"expected {kind}, found {type(value).__name__}")
    return value


def _listed(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return value


def render(recording: Recording) -> str:
    """The lockfile's text: endpoints by route, statements by alias and SQL."""
    data = {
        "health_deep_smoke_lock": FORMAT,
        "endpoints": {
            route: {
                "name": endpoint.name,
                "statements": [
                    {"alias": s.alias, "sql": s.sql, "params": list(s.params)}
                    for s in sorted(endpoint.statements, key=lambda s: (s.alias, s.sql))
                ],
            }
            for route, endpoint in sorted(recording.endpoints.items())
        },
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def parse(text: str) -> Recording:
    """A lockfile's recording; :class:`Invalid` with the reason when it cannot be used."""
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise Invalid(f"it is larger than {MAX_BYTES // 2**20} MiB")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise Invalid(f"it is not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("health_deep_smoke_lock") != FORMAT:
        raise Invalid(f"it is not a health_deep smoke lockfile of format {FORMAT}")
    endpoints = data.get("endpoints")
    if not isinstance(endpoints, dict) or len(endpoints) > MAX_ENDPOINTS:
        raise Invalid(f"'endpoints' must be an object of at most {MAX_ENDPOINTS} routes")
    recording = Recording()
    for route, entry in endpoints.items():
        if not isinstance(route, str) or not route.startswith("/") or not isinstance(entry, dict):
            raise Invalid(f"endpoint {str(route)[:80]!r} is not a route and its statements")
        statements = entry.get("statements")
        if not isinstance(statements, list) or len(statements) > MAX_STATEMENTS:
            raise Invalid(f"{route}: 'statements' must be a list of at most {MAX_STATEMENTS}")
        endpoint = recording.endpoints.setdefault(route, Endpoint(str(entry.get("name") or "")))
        for item in statements:
            endpoint.statements.append(_statement(route, item))
    return recording


def _statement(route: str, item: Any) -> Statement:
    if not isinstance(item, dict):
        raise Invalid(f"{route}: a statement is not an object")
    alias, sql, params = item.get("alias"), item.get("sql"), item.get("params", [])
    if not isinstance(alias, str) or not isinstance(sql, str) or not isinstance(params, list):
        raise Invalid(f"{route}: a statement needs 'alias', 'sql' and a 'params' list")
    if len(sql) > MAX_SQL or len(params) > MAX_PARAMS:
        raise Invalid(f"{route}: a statement is longer than {MAX_SQL} characters")
    if not is_plain_read(sql) or not _single(sql):
        raise Invalid(f"{route}: only single plain SELECT statements are replayed: {sql[:80]!r}")
    for value in params:
        decode(value)  # every value must read back: refused now, not at replay
    return Statement(alias, sql, tuple(params))


def read(path: str | Path) -> Recording | None:
    """The lockfile at ``path``; None when there is none."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Invalid(f"it cannot be read ({exc.strerror})") from None
    if len(raw) > MAX_BYTES:
        raise Invalid(f"it is larger than {MAX_BYTES // 2**20} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid(f"it is not UTF-8 text (byte {exc.start})") from None
    return parse(text)


def merge_into(path: str | Path, recording: Recording) -> None:
    """Write ``recording`` merged with what the lockfile already holds, atomically, one
    writer at a time (:func:`_one_writer`)."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    with _one_writer(folder):
        try:
            known = read(target) or Recording()
        except Invalid:
            known = Recording()  # a broken file is replaced by what was recorded now
        text = render(known.merged(recording))
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".smoke-lock-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, target)


@contextlib.contextmanager
def _one_writer(folder: Path) -> Iterator[None]:
    """Hold an advisory lock on ``folder`` (no lock file left beside the lockfile): the
    processes that write at once (pytest-xdist's workers at the end of a run, a staging
    server's workers) each merge what the one before wrote, so none loses another's
    endpoints. Where the platform has no ``flock`` (Windows), writers are not serialised."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock
