"""The SQL ``migrate`` will run for each pending operation, collected and never run.

As ``sqlmigrate`` does: each operation's ``database_forwards`` through a schema editor in
collect-only mode, the database state walked forwards as the operations leave it. Only Django's
own operations are asked (a RunSQL gives its SQL; a RunPython is not run); a third-party
operation could run anything in ``database_forwards``, and is judged as unknown (``W407``)
instead. With a database the schema editor may read the catalog (constraint names) inside the
caller's guarded, read-only transaction; without one (``lock --check``) it is told there are
no constraints to find, and an operation whose SQL needs the server anyway is left out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

from django.db import DatabaseError, connections
from django.db.migrations.state import ProjectState

from health_deep.rollout.releases import Releases, Step, database_operations

ColumnType = Callable[[str, str], "str | None"]


@dataclasses.dataclass(frozen=True)
class Collected:
    """A pending operation's SQL, and the column types the state before it has."""

    step: Step
    statements: tuple[str, ...]
    column_type: ColumnType = dataclasses.field(compare=False)
    known: bool = True  # False: the SQL could not be collected (no server to ask)


def collect(releases: Releases, *, alias: str, offline: bool = False) -> list[Collected]:
    """Each pending step with the statements it runs, in plan order."""
    connection = connections[alias]
    editor_class = (
        _offline(connection.SchemaEditorClass) if offline else connection.SchemaEditorClass
    )
    steps = iter(releases.steps)
    state = releases.before.clone()
    found: list[Collected] = []
    for migration in releases.migrations:
        for operation in migration.operations:
            for inner in database_operations(operation):
                step = next(steps)
                after = state.clone()
                inner.state_forwards(migration.app_label, after)
                statements, known = _statements(
                    connection, editor_class, migration.app_label, inner, state, after, offline
                )
                found.append(Collected(step, statements, _types(state, connection), known))
                state = after
    return found


def _statements(
    connection: Any,
    editor_class: Any,
    app: str,
    operation: Any,
    before: Any,
    after: Any,
    offline: bool,
) -> tuple[tuple[str, ...], bool]:
    if not type(operation).__module__.startswith("django.") or not operation.reduces_to_sql:
        return (), True  # RunPython, a third-party operation: not asked
    editor = editor_class(connection, collect_sql=True, atomic=False)
    try:
        with editor:
            operation.database_forwards(app, editor, before, after)
    except DatabaseError:
        if not offline:
            raise  # the database could not be read: the plan cannot be made
        return (), False  # the SQL needs a server to tell (MySQL's types, say)
    except Exception:  # what the schema editor needs and offline cannot give
        return (), False
    return tuple(
        part for s in editor.collected_sql if not str(s).startswith("--") for part in split(str(s))
    ), True


def split(sql: str) -> list[str]:
    """The statements of ``sql`` (a RunSQL may hold several), split at semicolons outside
    quotes, identifiers and dollar-quoted bodies."""
    parts, start, i, quote = [], 0, 0, ""
    while i < len(sql):
        char = sql[i]
        if quote:
            if sql.startswith(quote, i):
                i += len(quote) - 1
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char == "$":
            tag = sql[i : sql.find("$", i + 1) + 1] if "$" in sql[i + 1 :] else ""
            if tag and (tag == "$$" or tag[1:-1].replace("_", "a").isalnum()):
                quote = tag
                i += len(tag) - 1
        elif char == ";":
            parts.append(sql[start:i])
            start = i + 1
        i += 1
    parts.append(sql[start:])
    return [p.strip() for p in parts if p.strip()]


def _offline(base: type[Any]) -> type[Any]:
    """The vendor's schema editor, told there are no constraints to look up (no database)."""

    class Offline(base):  # type: ignore[misc]
        def _constraint_names(self, *args: Any, **kwargs: Any) -> list[str]:
            return []

        def execute(self, sql: Any, params: Any = ()) -> None:
            # The vendor's own formatting of parameters asks the driver, which needs a
            # connection; their values never change which lock a statement takes.
            text = str(sql)
            if params:
                text = text % tuple(_literal(p) for p in params)
            self.collected_sql.append(text + ";")

    return Offline


def _literal(value: Any) -> str:
    """A parameter as SQL would spell it, near enough to read (never run)."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "NULL"}[value]
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _types(state: ProjectState, connection: Any) -> ColumnType:
    """``column_type(table, column)`` in ``state``: worked out when first asked (rendering a
    state's models costs more than everything else here, and few statements need it)."""
    types: dict[tuple[str, str], str | None] = {}

    def column_type(table: str, column: str) -> str | None:
        if not types:
            types.update(dict(_columns(state, connection)))
            types.setdefault(("", ""), None)  # asked once, even when the state has no model
        return types.get((table, column))

    return column_type


def _columns(state: ProjectState, connection: Any) -> Iterator[tuple[tuple[str, str], str | None]]:
    for model in state.apps.get_models(include_auto_created=True):
        for field in model._meta.local_concrete_fields:
            try:
                db_type = field.db_type(connection)
            except Exception:  # a field that cannot state its type here
                db_type = None
            yield (model._meta.db_table, str(field.column)), db_type
