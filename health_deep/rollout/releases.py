"""The two releases of a rolling deploy, as migration states (no I/O).

While ``migrate`` runs, the previous release still serves. Three states describe it:

old     the models of the running release: the migration state at what it applied.
before  the schema the database has now, as the migrations made it.
after   the schema once the pending migrations ran.

``before`` and ``after`` follow what each operation does to the *database*: a
``SeparateDatabaseAndState`` counts by its ``database_operations`` (so a field removed from
the state only keeps its column, the safe first step of a contract), and a ``RunSQL`` by its
``state_operations`` (what its author declares the SQL does), reported as not known.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.migrations.operations import RunPython, RunSQL, SeparateDatabaseAndState
from django.db.migrations.state import ProjectState

from health_deep.history.graph import Key


@dataclasses.dataclass(frozen=True)
class Step:
    """One pending operation, as the database sees it."""

    migration: Key
    index: int  # 1-based, in the migration's ``operations``
    operation: Any

    @property
    def where(self) -> str:
        return f"{self.migration[0]}.{self.migration[1]} operation {self.index}"

    @property
    def text(self) -> str:
        try:
            return str(self.operation.describe())
        except Exception:  # a third-party operation that cannot describe itself
            return type(self.operation).__name__

    @property
    def runs_sql(self) -> bool:
        return isinstance(self.operation, RunSQL)

    @property
    def runs_python(self) -> bool:
        return isinstance(self.operation, RunPython)

    @property
    def custom(self) -> bool:
        """An operation from outside Django whose database effect is its own."""
        return not type(self.operation).__module__.startswith("django.")

    def names(self) -> set[tuple[str, str | None]]:
        """The (model, field) pairs, lowercase model names, this operation names directly."""
        op = self.operation
        found: set[tuple[str, str | None]] = set()
        model = getattr(op, "model_name", None)
        if model:
            fields = [getattr(op, a, None) for a in ("name", "old_name", "new_name")]
            constraint = getattr(op, "constraint", None) or getattr(op, "index", None)
            if constraint is not None:  # AddConstraint, AddIndex: its name and its fields
                fields += [getattr(constraint, "name", None), *getattr(constraint, "fields", ())]
            found |= {(model.lower(), f) for f in fields if isinstance(f, str)}
            found.add((model.lower(), None))
        else:
            for attr in ("name", "old_name", "new_name"):
                value = getattr(op, attr, None)
                if isinstance(value, str):
                    found.add((value.lower(), None))
        return found


@dataclasses.dataclass
class Releases:
    old: ProjectState
    before: ProjectState
    after: ProjectState
    pending: list[Key]
    steps: list[Step]
    exact: bool  # False: the database states fell back to the migration states
    migrations: list[Any] = dataclasses.field(default_factory=list)  # the pending ones

    def by_state(self) -> Releases:
        """The same deploy judged by the migration states alone: for database operations
        that leave the database state inconsistent (a model moved between apps with
        ``SeparateDatabaseAndState``, say)."""
        return dataclasses.replace(
            self,
            before=self.old.clone(),
            after=_forwards_state(self.old, self.migrations),
            exact=False,
        )

    def blame(self, model: str, field: str | tuple[str, ...] | None) -> Step | None:
        """The pending operation that most plausibly changed ``model`` ("app.Model") or one
        of its fields (or names: a constraint's name, then its fields): the last one naming
        the first of them it can, else the last one naming the model."""
        app, _, name = model.partition(".")
        names = (field,) if isinstance(field, str) else field or ()
        wanted: list[tuple[str, str | None]] = [(name.lower(), f) for f in names]
        wanted.append((name.lower(), None))
        for pair in wanted:
            for step in reversed(self.steps):
                if step.migration[0] == app and pair in step.names():
                    return step
        return None


def database_operations(operation: Any) -> Iterator[Any]:
    """The operations that change the database, ``SeparateDatabaseAndState`` unpacked."""
    if isinstance(operation, SeparateDatabaseAndState):
        for inner in operation.database_operations:
            yield from database_operations(inner)
    else:
        yield operation


def full_plan(graph: Any) -> list[Key]:
    """Every migration in the order ``migrate`` applies them from an empty database."""
    seen: set[Key] = set()
    order: list[Key] = []
    for leaf in sorted(graph.leaf_nodes()):
        for key in graph.forwards_plan(leaf):
            if key not in seen:
                seen.add(key)
                order.append(key)
    return order


def build(loader: Any, applied: Iterable[Key]) -> Releases:
    """The releases of a deploy from ``applied`` (what the database, or the lockfile, has)
    to every migration the loader knows."""
    done = set(applied)
    order = full_plan(loader.graph)
    migrations = [loader.graph.nodes[key] for key in order]
    pending = [key for key in order if key not in done]
    real_apps = set(loader.unmigrated_apps)

    old = ProjectState(real_apps=real_apps)
    for migration in migrations:
        if (migration.app_label, migration.name) in done:
            for operation in migration.operations:
                operation.state_forwards(migration.app_label, old)
    steps = [
        Step((m.app_label, m.name), index, inner)
        for m in migrations
        if (m.app_label, m.name) not in done
        for index, operation in enumerate(m.operations, start=1)
        for inner in database_operations(operation)
    ]
    todo = [m for m in migrations if (m.app_label, m.name) not in done]
    releases = Releases(old, old, old, pending, steps, exact=True, migrations=todo)
    try:
        before, after = _database_states(migrations, done, real_apps)
    except Exception:  # database operations that leave the state inconsistent
        return releases.by_state()
    return dataclasses.replace(releases, before=before, after=after)


def _forwards_state(state: ProjectState, migrations: list[Any]) -> ProjectState:
    after = state.clone()
    for migration in migrations:
        for operation in migration.operations:
            operation.state_forwards(migration.app_label, after)
    return after


def _database_states(
    migrations: list[Any], done: set[Key], real_apps: set[str]
) -> tuple[ProjectState, ProjectState]:
    state = ProjectState(real_apps=real_apps)
    for migration in migrations:
        if (migration.app_label, migration.name) in done:
            _forwards(migration, state)
    before = state.clone()
    for migration in migrations:
        if (migration.app_label, migration.name) not in done:
            _forwards(migration, state)
    before.apps, state.apps  # noqa: B018 - render now: an inconsistent state raises here
    return before, state


def _forwards(migration: Any, state: ProjectState) -> None:
    for operation in migration.operations:
        for inner in database_operations(operation):
            inner.state_forwards(migration.app_label, state)
