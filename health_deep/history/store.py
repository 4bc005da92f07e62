"""The migration code facts of one release, kept on disk where the next process finds them.

Before its first probe can say anything about migrations, a process needs the graph's nodes,
every migration's fingerprint and the autodetector's verdict. Working them out imports and
parses every migration file and renders every model state: a second or more at 500 models,
paid again by every fresh or recycled worker. They depend only on the code, so they are kept
per release in small JSON files named by a digest of the files they come from (reading and
hashing 1.4 MB of migrations takes a few milliseconds), and a process of the same release
loads them instead of working them out.

What the digests cover:

- migrations (``facts-*.json``): the bytes of every migration file the loader would read, with
  health_deep's fingerprint algorithm and the Django and Python versions. A fingerprint
  depends on the file's bytes alone wherever it is compared (two fingerprints with the same
  source part are the same migration), so a stored one is as good as a fresh one.
- the autodetector's verdict (``changes-*.json``): the migrations' digest, the bytes of every
  module that defines a model and of a site's own ``makemigrations`` command, and what the
  models are made of (fields, types, options): a
  model built from the environment is judged again when what it builds changes.

Only plain data is stored (JSON, never pickle): a file is read only when it and its folder
belong to this user and nobody else may write them. ``HEALTH_DEEP['CODE_FACTS_DIR']`` names
the folder (default: ``health_deep-<uid>`` in the system's temporary folder); ``False`` keeps
nothing. A store that cannot be read or written costs the time it saves, never a finding.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.util
import json
import logging
import os
import pkgutil
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

from health_deep import conf

logger = logging.getLogger("health_deep")

Key = tuple[str, str]

FORMAT = 1
KEEP = 6  # files of each kind kept in the folder: the releases a rollback may come back to


@dataclasses.dataclass(frozen=True)
class Sources:
    """Every migration file the loader would read, by the digest of its bytes."""

    files: dict[Key, str]  # (app, name) -> sha256 of the file's bytes
    key: str  # the release's digest: the files, the algorithm, the versions


def environment() -> str:
    """What a fingerprint depends on besides the file: the algorithm and the versions."""
    import django

    from health_deep import __version__
    from health_deep.history.fingerprint import ALGORITHM

    python = ".".join(map(str, sys.version_info[:2]))
    return f"{ALGORITHM} health_deep {__version__} django {django.get_version()} python {python}"


def migration_sources() -> Sources | None:
    """The migration files, found as Django's loader finds them but without importing them;
    None when one cannot be read as a file (then nothing is stored)."""
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader

    files: dict[Key, str] = {}
    for app_config in apps.get_app_configs():
        module_name, _explicit = MigrationLoader.migrations_module(app_config.label)
        if module_name is None:
            continue
        try:
            package = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue  # an app without migrations: the loader skips it too
        if not getattr(package, "__file__", None) or not hasattr(package, "__path__"):
            continue
        for info in pkgutil.iter_modules(package.__path__):
            if info.ispkg or info.name[0] in "_~":
                continue
            spec = info.module_finder.find_spec(f"{module_name}.{info.name}", None)
            origin = getattr(spec, "origin", None)
            if not origin or not os.path.isfile(origin):
                return None
            try:
                data = Path(origin).read_bytes()
            except OSError:
                return None
            files[(app_config.label, info.name)] = hashlib.sha256(data).hexdigest()
    digest = hashlib.sha256(environment().encode())
    for (app, name), sha in sorted(files.items()):
        digest.update(f"\0{app}\0{name}\0{sha}".encode())
    return Sources(files=files, key=digest.hexdigest()[:32])


def models_key(sources: Sources) -> str:
    """The digest the autodetector's verdict is kept under."""
    from django.apps import apps
    from django.core.management import get_commands

    digest = hashlib.sha256(sources.key.encode())
    command_app = get_commands().get("makemigrations", "django.core")
    digest.update(repr(command_app).encode())
    paths = set()
    if command_app != "django.core":  # a site's own command decides what counts as a change
        command = sys.modules.get(f"{command_app}.management.commands.makemigrations")
        if command is None:
            spec = importlib.util.find_spec(f"{command_app}.management.commands.makemigrations")
            origin = spec.origin if spec else None
        else:
            origin = getattr(command, "__file__", None)
        if origin:
            paths.add(origin)
    for model in apps.get_models(include_auto_created=True):
        module = sys.modules.get(model.__module__)
        path = getattr(module, "__file__", None)
        if path:
            paths.add(path)
    for path in sorted(paths):
        try:
            digest.update(hashlib.sha256(Path(path).read_bytes()).digest())
        except OSError:
            digest.update(path.encode())
    digest.update(repr(describe_models()).encode())
    return digest.hexdigest()[:32]


def describe_models() -> list[tuple[Any, ...]]:
    """What the installed models are made of: tables, fields and their options."""
    from django.apps import apps

    described: list[tuple[Any, ...]] = []
    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        fields = tuple(
            (
                f.name,
                f.column,
                f.get_internal_type(),
                f.null,
                getattr(f, "max_length", None),
                f.primary_key,
                f.unique,
                getattr(f, "db_index", False),
                _target(f),
            )
            for f in opts.local_concrete_fields
        )
        described.append(
            (
                opts.label,
                opts.db_table,
                opts.managed,
                opts.proxy,
                fields,
                tuple(sorted(i.name for i in opts.indexes if i.name)),
                tuple(sorted(c.name for c in opts.constraints)),
            )
        )
    return sorted(described, key=lambda d: d[0])


def _target(field: Any) -> str | None:
    remote = getattr(field, "remote_field", None)
    model = getattr(remote, "model", None)
    return None if model is None else str(getattr(model, "_meta", model))


def directory() -> Path | None:
    """The store's folder, or None when the store is off."""
    chosen = conf.get().code_facts_dir
    if chosen is False:
        return None
    if chosen is None:
        uid = getattr(os, "geteuid", lambda: 0)()
        return Path(tempfile.gettempdir()) / f"health_deep-{uid}"
    return Path(str(chosen))


def _trusted(path: Path) -> bool:
    """Owned by this user and writable by nobody else."""
    try:
        info = path.stat()
    except OSError:
        return False
    mine = getattr(os, "geteuid", lambda: info.st_uid)()
    return info.st_uid == mine and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def load(kind: str, key: str) -> dict[str, Any] | None:
    """The stored ``kind`` record for ``key``, or None."""
    folder = directory()
    if folder is None:
        return None
    path = folder / f"{kind}-{key}.json"
    if not path.exists():
        return None
    if not (_trusted(folder) and _trusted(path)):
        logger.warning(
            "health_deep: the code-facts store %s is writable by others or not this user's; "
            "it is not read",
            folder,
        )
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("format") != FORMAT or record.get("key") != key:
        return None
    return record


def latest(kind: str) -> dict[str, Any] | None:
    """The newest stored ``kind`` record of any release (its per-file parts are reused)."""
    folder = directory()
    if folder is None or not _trusted(folder):
        return None
    try:
        paths = sorted(folder.glob(f"{kind}-*.json"), key=lambda p: p.stat().st_mtime)
    except OSError:
        return None
    for path in reversed(paths):
        record = load(kind, path.stem.removeprefix(f"{kind}-"))
        if record is not None:
            return record
    return None


def save(kind: str, key: str, record: dict[str, Any]) -> None:
    """Keep ``record`` under ``key``: written whole or not at all, the oldest files pruned."""
    folder = directory()
    if folder is None:
        return
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _trusted(folder):
            return
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{kind}-", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({**record, "format": FORMAT, "key": key}, out, separators=(",", ":"))
        os.replace(temporary, folder / f"{kind}-{key}.json")
        _prune(folder, kind)
    except OSError as exc:
        logger.info("health_deep: the code-facts store %s is not writable (%s)", folder, exc)


def _prune(folder: Path, kind: str) -> None:
    paths = sorted(folder.glob(f"{kind}-*.json"), key=lambda p: p.stat().st_mtime)
    for path in paths[:-KEEP]:
        path.unlink(missing_ok=True)
