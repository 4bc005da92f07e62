"""What the code on disk says about migrations: computed once per process, never per probe.

Loading the migration graph, fingerprinting every migration and running the autodetector all
depend only on the code, which does not change while a process runs. ``code_facts()`` and
``missing_migrations()`` keep them in :mod:`health_deep.memo`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from health_deep import memo
from health_deep.history.fingerprint import fingerprint

Key = tuple[str, str]


@dataclasses.dataclass(frozen=True)
class CodeFacts:
    """The migration graph on disk, reduced to what the probe compares with the database."""

    nodes: frozenset[Key]
    """Graph nodes once squashes replace what they replace (the loader's view with no DB)."""
    fingerprints: dict[Key, str]
    """Every migration file on disk, replaced ones included."""
    replaces: dict[Key, tuple[Key, ...]]
    """Squashed migration -> the migrations it replaces."""

    @property
    def replaced(self) -> frozenset[Key]:
        return frozenset(k for keys in self.replaces.values() for k in keys)


def load_code_facts() -> CodeFacts:
    """Read the migration files now, bypassing the per-process cache."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    disk: dict[Key, Any] = loader.disk_migrations
    return CodeFacts(
        nodes=frozenset(loader.graph.nodes),
        fingerprints={key: fingerprint(migration) for key, migration in disk.items()},
        replaces={
            key: tuple((r[0], r[1]) for r in migration.replaces)
            for key, migration in disk.items()
            if migration.replaces
        },
    )


def find_changes() -> dict[str, list[str]]:
    """Model changes with no migration, per app: what ``makemigrations --check`` would write."""
    from django.apps import apps
    from django.db.migrations.autodetector import MigrationAutodetector
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
    from django.db.migrations.state import ProjectState

    loader = MigrationLoader(None, ignore_no_migrations=True)
    autodetector = MigrationAutodetector(
        loader.project_state(),
        ProjectState.from_apps(apps),
        NonInteractiveMigrationQuestioner(specified_apps=None, dry_run=True),
    )
    changes = autodetector.changes(graph=loader.graph)
    return {
        app: [op.describe() for migration in migrations for op in migration.operations]
        for app, migrations in sorted(changes.items())
    }


def code_facts() -> CodeFacts:
    """The process-wide :class:`CodeFacts`."""
    return memo.cached("migrations:facts", load_code_facts)


def missing_migrations() -> dict[str, list[str]]:
    """The process-wide result of :func:`find_changes`."""
    return memo.cached("migrations:changes", find_changes)


def reset() -> None:
    """Forget every cached code fact (the next probe reads the files again)."""
    memo.reset()
