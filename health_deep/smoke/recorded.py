"""Replaying ``smoke.lock``: each recorded statement as a read-only probe for one real row.

A statement runs as recorded, with its recorded parameters, under the smoke check's guard
(rolled back, read-only, timed out, screened), for one row: ``LIMIT 1`` is added where the
statement has no limit of its own. An equality on the table's primary key (a detail view's
``WHERE "notes_note"."id" = %s``) reads an existing row instead of the recorded id, which
the production table may not have: the value matters less than the shape. A plain read of
one model's table is built into model instances, so the fields' converters meet the real
row (a value a field cannot decode fails here, as it fails the endpoint); anything else is
fetched as rows.

A recording made against older code is itself checked first: a statement naming a table or
column no model has any more, an endpoint the URLconf no longer has, a database alias no
longer configured, is a stale recording (``W310``), never run and never a site failure. A
lockfile that cannot be used at all is ``W309``, with the reason.
"""

from __future__ import annotations

import collections
import dataclasses
import re
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connections

from health_deep import conf, memo
from health_deep.findings import Finding
from health_deep.smoke import lockfile
from health_deep.smoke.discovery import RECORDED, Endpoint, normal_route

__all__ = ["RECORDED", "Recorded", "Replay", "load", "prepared"]


@dataclasses.dataclass(frozen=True)
class Replay:
    """One recorded statement, ready to run (``fetch_one`` in the guard's transaction)."""

    alias: str
    sql: str
    params: tuple[Any, ...]
    model: Any = None  # the model whose table it reads alone, to build instances
    owner: str = ""  # the label of the model whose table it reads first ('' when none)

    def fetch_one(self) -> None:
        sql, params = prepared(self.sql, list(self.params), self.model, self.alias)
        if self.model is not None:
            rows = self.model._base_manager.using(self.alias).raw(sql, params)
            next(iter(rows), None)
            return
        with connections[self.alias].cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchone()


@dataclasses.dataclass(frozen=True)
class Recorded:
    """What the lockfile adds to the smoke plan."""

    statements: list[tuple[Replay, tuple[Endpoint, ...]]]
    covered: frozenset[tuple[str, str | None]]  # (route, name) of the endpoints it covers
    findings: tuple[Finding, ...] = ()


def load(endpoints: Iterable[Endpoint]) -> Recorded:
    """The recording at ``HEALTH_DEEP['SMOKE_LOCK']``, matched with the URLconf's endpoints
    (read once per process)."""
    known = list(endpoints)
    return memo.cached("smoke:recorded", lambda: _load(known))


def _load(endpoints: list[Endpoint]) -> Recorded:
    path = conf.get().smoke_lock
    try:
        recording = lockfile.read(path)
    except lockfile.Invalid as exc:
        return Recorded([], frozenset(), (_unusable(path, str(exc)),))
    if recording is None:
        return Recorded([], frozenset())
    match = _matcher(endpoints)
    columns = _model_columns()
    groups: dict[tuple[str, str], tuple[lockfile.Statement, list[Endpoint]]] = {}
    stale: list[dict[str, str]] = []
    covered: set[tuple[str, str | None]] = set()
    for route, entry in sorted(recording.endpoints.items()):
        endpoint = match(route, entry.name)
        if endpoint is None:
            stale.append({"endpoint": route, "why": "the URLconf has no such endpoint now"})
            continue
        usable = 0
        for statement in entry.statements:
            why = _stale(statement, columns)
            if why:
                stale.append({"endpoint": endpoint.label, "why": why, "sql": statement.sql[:300]})
                continue
            usable += 1
            group = groups.setdefault((statement.alias, statement.sql), (statement, []))
            group[1].append(endpoint)
        if usable:
            covered.add((endpoint.route, endpoint.name))
    replays = [
        (
            Replay(s.alias, s.sql, tuple(s.values()), _model_of(s, columns), _owner(s)),
            tuple(found),
        )
        for (s, found) in groups.values()
    ]
    findings = (_stale_finding(path, stale),) if stale else ()
    return Recorded(replays, frozenset(covered), findings)


def _matcher(endpoints: Iterable[Endpoint]) -> Any:
    """``match(route, name)``: the URLconf's endpoint a recorded one is, by its route, else by
    its URL name where only one endpoint has it (a router's format-suffix twin shares it)."""
    known = list(endpoints)
    by_route = {normal_route(e.route): e for e in known}
    counts = collections.Counter(e.name for e in known if e.name)
    by_name = {e.name: e for e in known if e.name and counts[e.name] == 1}

    def match(route: str, name: str) -> Endpoint | None:
        return by_route.get(normal_route(route)) or (by_name.get(name) if name else None)

    return match


def unrecorded(endpoints: Iterable[Endpoint], recording: lockfile.Recording) -> list[Endpoint]:
    """The endpoints whose query cannot be read off the view and that the recording does not
    hold either (code only: for ``lock --check``)."""
    known = list(endpoints)
    match = _matcher(known)
    held = {id(match(route, e.name)) for route, e in recording.endpoints.items()}
    return [e for e in known if not e.covered and id(e) not in held]


_PAIR = re.compile(r'(?:"([^"]+)"|`([^`]+)`)\.(?:"([^"]+)"|`([^`]+)`)')
_FROM = re.compile(r'\b(?:FROM|JOIN)\s+(?:"([^"]+)"|`([^`]+)`)', re.IGNORECASE)


def _model_columns() -> dict[str, set[str]]:
    """Every model's table and its columns (any database: a recording names its own)."""
    found: dict[str, set[str]] = {}
    for model in apps.get_models(include_auto_created=True):
        table = model._meta.db_table.split('"."')[-1].strip('"')
        found.setdefault(table, set()).update(
            str(f.column) for f in model._meta.local_concrete_fields if f.column
        )
    return found


def _stale(statement: lockfile.Statement, columns: dict[str, set[str]]) -> str:
    """Why a recorded statement no longer matches the code ('' when it does)."""
    if statement.alias not in settings.DATABASES:
        return f"database alias {statement.alias!r} is not configured now"
    text = re.sub(r"'(?:[^']|'')*'", "''", statement.sql)
    tables = {a or b for a, b in _FROM.findall(text)}
    aliases = set(re.findall(r'\bAS\s+(?:"([^"]+)"|`([^`]+)`)', text, re.IGNORECASE))
    named = {x or y for x, y in aliases}
    for table in sorted(tables):
        if table not in columns:
            return f"table {table} belongs to no model now"
    for t1, t2, c1, c2 in _PAIR.findall(text):
        table, column = t1 or t2, c1 or c2
        if table in columns and column not in columns[table]:
            return f"column {table}.{column} belongs to no model's field now"
        if table not in columns and table not in named:
            return f"table {table} belongs to no model now"
    return ""


_SELECT_LIST = re.compile(r"^\s*SELECT\s+(?:DISTINCT\s+)?(.*?)\s+FROM\s+", re.I | re.S)


def _model_of(statement: lockfile.Statement, columns: dict[str, set[str]]) -> Any:
    """The model whose table a plain single-table read selects its own columns from (its
    primary key among them), or None: then rows, not instances."""
    text = statement.sql
    tables = {a or b for a, b in _FROM.findall(text)}
    head = _SELECT_LIST.match(text)
    if len(tables) != 1 or head is None or re.search(r"\bJOIN\b", text, re.I):
        return None
    [table] = tables
    selected = [c.strip() for c in head.group(1).split(",")]
    pairs = [_PAIR.fullmatch(c) for c in selected]
    if not all(pairs):
        return None  # an expression, an aggregate, an alias: rows
    names = [p.group(3) or p.group(4) for p in pairs if p]
    if len(set(names)) != len(names) or any(
        (p.group(1) or p.group(2)) != table for p in pairs if p
    ):
        return None
    return next((m for m in _models_of(table) if m._meta.pk.column in names), None)


def _owner(statement: lockfile.Statement) -> str:
    """The label of the model whose table the statement reads first."""
    found = _FROM.search(statement.sql)
    if not found:
        return ""
    models = _models_of(found.group(1) or found.group(2))
    return str(models[0]._meta.label) if models else ""


_LIMITED = re.compile(r"\bLIMIT\s+\d+(?:\s*,\s*\d+|\s+OFFSET\s+\d+)?\s*$", re.IGNORECASE)


def prepared(sql: str, params: list[Any], model: Any, alias: str) -> tuple[str, list[Any]]:
    """The statement as it is replayed: one row at most, and an equality on the primary key
    reading an existing row rather than the recorded one."""
    text = sql.rstrip().rstrip(";")
    tables = {a or b for a, b in _FROM.findall(text)}
    quote = connections[alias].ops.quote_name
    for table in tables:
        pk = _pk_of(table)
        if pk is None:
            continue
        found = re.search(_qualified(table, pk) + r"\s*=\s*%s", text)
        if found:
            index = text[: found.start()].replace("%%", "").count("%s")
            sampled = f"(SELECT {quote(pk)} FROM {quote(table)} LIMIT 1)"
            text = text[: found.end() - 2] + sampled + text[found.end() :]
            params = params[:index] + params[index + 1 :]
            break
    if not _LIMITED.search(text):
        text += " LIMIT 1"
    return text, params


def _qualified(table: str, column: str) -> str:
    """A pattern for ``"table"."column"`` as PostgreSQL and SQLite quote it, or as MySQL does."""
    t, c = re.escape(table), re.escape(column)
    return rf'(?:"{t}"|`{t}`)\.(?:"{c}"|`{c}`)'


def _pk_of(table: str) -> str | None:
    models = _models_of(table)
    return str(models[0]._meta.pk.column) if models else None


def _models_of(table: str) -> list[Any]:
    """The models whose ``db_table`` is ``table``, in the registry's order. The map is made
    once per process: replaying asks it for each statement of each probe, which must not cost
    more as the site's models grow."""
    return memo.cached("smoke:models-by-table", _models_by_table).get(table, [])


def _models_by_table() -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for model in apps.get_models(include_auto_created=True):
        found.setdefault(model._meta.db_table, []).append(model)
    return found


def _unusable(path: str, why: str) -> Finding:
    return Finding(
        id="health_deep.W309",
        alias="",
        object=str(path),
        message=f"The smoke lockfile cannot be used: {why}. Its recorded queries do not run.",
        hint="Record it again (`pytest --health-deep-record`, or the recording middleware on "
        "staging); it holds only single plain SELECT statements and their example values.",
        details={"path": str(path), "why": why},
    )


def _stale_finding(path: str, stale: list[dict[str, str]]) -> Finding:
    return Finding(
        id="health_deep.W310",
        alias="",
        object=str(path),
        message=f"{len(stale)} recorded query(ies) or endpoint(s) in the smoke lockfile no "
        "longer match the code; they are not run: "
        + "; ".join(f"{s['endpoint']}: {s['why']}" for s in stale[:3])
        + (" ..." if len(stale) > 3 else "")
        + ".",
        hint="Record again: the code changed since the recording was made.",
        details={"stale": stale[:100], "count": len(stale)},
    )
