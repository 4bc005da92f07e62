"""What the code on disk says about migrations: computed once per release, never per probe.

Loading the migration graph, fingerprinting every migration and running the autodetector all
depend only on the code, which does not change while a process runs. ``code_facts()`` and
``missing_migrations()`` keep them in :mod:`health_deep.memo` for the process and in
:mod:`health_deep.history.store` for the next process of the same release.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from health_deep import memo
from health_deep.history import sitecommand, store
from health_deep.history.fingerprint import fingerprint

Key = tuple[str, str]

logger = logging.getLogger("health_deep")


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


def load_code_facts(*, reuse: dict[Key, tuple[str, str]] | None = None) -> CodeFacts:
    """Read the migration files now, bypassing every cache, and keep what they say in the
    store for the next process. ``reuse`` maps a migration to the digest of its file's bytes
    and its fingerprint from an earlier release: a file with the same bytes is not parsed
    again (see :mod:`health_deep.history.store` for why that is the same fingerprint)."""
    from django.db.migrations.loader import MigrationLoader

    sources = store.migration_sources()
    loader = MigrationLoader(None, ignore_no_migrations=True)
    disk: dict[Key, Any] = loader.disk_migrations
    files = sources.files if sources is not None else {}
    fingerprints = {}
    for key, migration in disk.items():
        known = (reuse or {}).get(key)
        if known is not None and key in files and known[0] == files[key]:
            fingerprints[key] = known[1]
        else:
            fingerprints[key] = fingerprint(migration)
    facts = CodeFacts(
        nodes=frozenset(loader.graph.nodes),
        fingerprints=fingerprints,
        replaces={
            key: tuple((r[0], r[1]) for r in migration.replaces)
            for key, migration in disk.items()
            if migration.replaces
        },
    )
    if sources is not None and set(files) == set(disk):
        store.save("facts", sources.key, _record(facts, sources))
    return facts


def _record(facts: CodeFacts, sources: store.Sources) -> dict[str, Any]:
    return {
        "environment": store.environment(),
        "nodes": sorted(facts.nodes),
        "files": [
            [app, name, sources.files[(app, name)], fp]
            for (app, name), fp in sorted(facts.fingerprints.items())
        ],
        "replaces": [
            [app, name, [list(r) for r in replaced]]
            for (app, name), replaced in sorted(facts.replaces.items())
        ],
    }


def _from_record(record: dict[str, Any]) -> CodeFacts:
    return CodeFacts(
        nodes=frozenset((str(a), str(n)) for a, n in record["nodes"]),
        fingerprints={(str(a), str(n)): str(fp) for a, n, _sha, fp in record["files"]},
        replaces={
            (str(a), str(n)): tuple((str(r[0]), str(r[1])) for r in replaced)
            for a, n, replaced in record["replaces"]
        },
    )


def _sources() -> store.Sources | None:
    return memo.cached("migrations:sources", store.migration_sources)


def _stored_or_loaded() -> CodeFacts:
    sources = _sources()
    if sources is not None:
        record = store.load("facts", sources.key)
        if record is not None:
            try:
                return _from_record(record)
            except (KeyError, TypeError, ValueError):
                pass  # a damaged record: work the facts out again
    reuse: dict[Key, tuple[str, str]] = {}
    earlier = store.latest("facts")
    if earlier is not None and earlier.get("environment") == store.environment():
        try:
            reuse = {(str(a), str(n)): (str(sha), str(fp)) for a, n, sha, fp in earlier["files"]}
        except (KeyError, TypeError, ValueError):
            reuse = {}
    return load_code_facts(reuse=reuse)


def find_changes() -> dict[str, list[str]]:
    """Model changes with no migration, per app: exactly what ``makemigrations --check`` finds.

    Run under the same conditions as that command: no active language (``makemigrations`` is
    ``@no_translations``; a translated ``verbose_name`` would otherwise differ from the one its
    migration recorded), the autodetector class of the installed ``makemigrations`` command
    (Django 5.2 lets a project replace it), and a questioner that never prompts or exits. A
    command that replaces ``handle()`` itself runs in a child process
    (:mod:`health_deep.history.sitecommand`): what it changes cannot be known from outside.
    """
    from django.apps import apps
    from django.db.migrations.autodetector import MigrationAutodetector
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.questioner import MigrationQuestioner
    from django.db.migrations.state import ProjectState
    from django.utils import translation

    app, command = _makemigrations()
    if sitecommand.customised(command):
        return sitecommand.changes(app)
    with translation.override(None):
        loader = MigrationLoader(None, ignore_no_migrations=True)
        autodetector = getattr(command, "autodetector", MigrationAutodetector)(
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


def _makemigrations() -> tuple[str, Any]:
    """The app whose ``makemigrations`` command is installed, and that command."""
    from django.core.management import get_commands, load_command_class

    app = get_commands().get("makemigrations", "django.core")
    return app, load_command_class(app, "makemigrations")


def code_facts() -> CodeFacts:
    """The process-wide :class:`CodeFacts`."""
    return memo.cached("migrations:facts", _stored_or_loaded)


def missing_migrations() -> dict[str, list[str]]:
    """The release-wide result of :func:`find_changes`. Raises
    :class:`~health_deep.history.sitecommand.Unavailable` when the site's own command gave no
    verdict: remembered for the process (a child per probe would be a cost), never stored."""
    found = memo.cached("migrations:changes", _stored_or_found)
    if isinstance(found, sitecommand.Unavailable):
        raise found
    return found


def _stored_or_found() -> dict[str, list[str]] | sitecommand.Unavailable:
    sources = _sources()
    key = None if sources is None else store.models_key(sources)
    if key is not None:
        record = store.load("changes", key)
        changes = None if record is None else record.get("changes")
        if isinstance(changes, dict) and all(
            isinstance(ops, list) and all(isinstance(o, str) for o in ops)
            for ops in changes.values()
        ):
            return {str(app): ops for app, ops in changes.items()}
    try:
        found = find_changes()
    except sitecommand.Unavailable as exc:
        logger.warning("health_deep: %s", exc)
        return exc
    if key is not None:
        store.save("changes", key, {"changes": found})
    return found


def reset() -> None:
    """Forget what the migration files told (``migrate`` may have written some)."""
    memo.forget("migrations:", "fleet:")


def keep_for_next_process(**kwargs: Any) -> None:
    """``post_migrate`` receiver: leave this release's code facts in the store (once per
    release), so the workers a deploy starts next load them instead of working them out."""
    from health_deep import conf

    try:
        code_facts()
        if conf.get().check_missing_migrations:
            missing_migrations()
    except Exception:  # migrate reports broken code itself; never fail it from here
        logger.debug("health_deep: the code facts could not be kept", exc_info=True)
