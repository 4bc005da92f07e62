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
    """Model changes with no migration, per app: exactly what ``makemigrations --check`` finds.

    Run under the same conditions as that command: no active language (``makemigrations`` is
    ``@no_translations``; a translated ``verbose_name`` would otherwise differ from the one its
    migration recorded), the autodetector class of the installed ``makemigrations`` command
    (Django 5.2 lets a project replace it), and a questioner that never prompts or exits.
    """
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.questioner import MigrationQuestioner
    from django.db.migrations.state import ProjectState
    from django.utils import translation

    with translation.override(None):
        loader = MigrationLoader(None, ignore_no_migrations=True)
        autodetector = _autodetector_class()(
            loader.project_state(),
            ProjectState.from_apps(apps),
            # The base questioner answers as a dry run does: no prompt, no sys.exit(3) for a
            # NOT NULL field without a default (which still counts as a change).
            MigrationQuestioner(specified_apps=set(), dry_run=True),
        )
        changes = autodetector.changes(graph=loader.graph)
        return {
            app: [str(op.describe()) for migration in migrations for op in migration.operations]
            for app, migrations in sorted(changes.items())
        }


def _autodetector_class() -> Any:
    from django.core.management import get_commands, load_command_class
    from django.db.migrations.autodetector import MigrationAutodetector

    app = get_commands().get("makemigrations", "django.core")
    command = load_command_class(app, "makemigrations")
    return getattr(command, "autodetector", MigrationAutodetector)


def code_facts() -> CodeFacts:
    """The process-wide :class:`CodeFacts`."""
    return memo.cached("migrations:facts", load_code_facts)


def missing_migrations() -> dict[str, list[str]]:
    """The process-wide result of :func:`find_changes`."""
    return memo.cached("migrations:changes", find_changes)


def reset() -> None:
    """Forget what the migration files told (``migrate`` may have written some)."""
    memo.forget("migrations:", "fleet:")
