"""The migration lockfile: a committed list of migrations and their semantic fingerprints.

The runtime check finds an edited migration once it reaches a server; the lockfile finds it
in code review. ``manage.py health_deep lock`` writes it, ``lock --check`` compares the code
with it, needing no database. For an edited migration the check loads the version from the
commit that last wrote the lockfile (through git) and prints what changed in meaning.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import subprocess
import sys
import sysconfig
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from health_deep.history.fingerprint import ALGORITHM, canonical, fingerprint, unchanged
from health_deep.history.graph import Key
from health_deep.history.semantic_diff import describe

HEADER = (
    "# health_deep migration lockfile: each migration and its semantic fingerprint.\n"
    "# Regenerate: python manage.py health_deep lock   Check: ... health_deep lock --check\n"
)


class LockfileError(Exception):
    """The lockfile cannot be read; the message says why."""


@dataclasses.dataclass(frozen=True)
class Migrations:
    """The migrations on disk that the lockfile covers."""

    fingerprints: dict[Key, str]
    files: dict[Key, Path]
    objects: dict[Key, Any]
    replaced: frozenset[Key]


@dataclasses.dataclass
class Report:
    edited: dict[Key, list[str]] = dataclasses.field(default_factory=dict)
    deleted: list[Key] = dataclasses.field(default_factory=list)
    squashed_away: list[Key] = dataclasses.field(default_factory=list)
    new: list[Key] = dataclasses.field(default_factory=list)

    def failed(self, *, allow_new: bool) -> bool:
        return bool(self.edited or self.deleted or (self.new and not allow_new))


def project_apps(*, include_installed: bool = False) -> set[str]:
    """Labels of the apps whose code is the project's, not an installed package's."""
    from django.apps import apps

    installed = {
        Path(p).resolve() for key in ("purelib", "platlib") if (p := sysconfig.get_paths().get(key))
    }
    labels = set()
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if include_installed or not any(path.is_relative_to(root) for root in installed):
            labels.add(config.label)
    return labels


def load(apps: set[str]) -> Migrations:
    """Fingerprint the migration files of ``apps`` (code only: no database)."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    chosen = {k: m for k, m in loader.disk_migrations.items() if k[0] in apps}
    return Migrations(
        fingerprints={k: fingerprint(m) for k, m in chosen.items()},
        files={k: Path(sys.modules[type(m).__module__].__file__ or "") for k, m in chosen.items()},
        objects=chosen,
        replaced=frozenset(
            (r[0], r[1]) for m in loader.disk_migrations.values() for r in m.replaces
        ),
    )


def render(fingerprints: dict[Key, str]) -> str:
    """The lockfile text: a fixed header, then one sorted line per migration."""
    lines = [f"{app}.{name} {fp}" for (app, name), fp in sorted(fingerprints.items())]
    return HEADER + f"# algorithm: {ALGORITHM}\n" + "".join(f"{line}\n" for line in lines)


def parse(text: str) -> dict[Key, str]:
    """The (app, name) -> fingerprint lines of a lockfile."""
    entries: dict[Key, str] = {}
    algorithm = None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("# algorithm:"):
            algorithm = line.split(":", 1)[1].strip()
        if not line.strip() or line.startswith("#"):
            continue
        name, _, fp = line.partition(" ")
        app, dot, migration = name.partition(".")
        if not dot or not fp.strip():
            raise LockfileError(f"line {number} is not 'app.migration fingerprint': {line!r}")
        entries[(app, migration)] = fp.strip()
    if algorithm != ALGORITHM:
        raise LockfileError(
            f"the lockfile was written by fingerprint algorithm {algorithm!r}, "
            f"this health_deep uses {ALGORITHM!r}: regenerate it with "
            "`manage.py health_deep lock` and review the diff"
        )
    return entries


def compare(locked: dict[Key, str], code: Migrations, *, apps: set[str], lockfile: Path) -> Report:
    """What changed between the lockfile and the migration files of ``apps``."""
    report = Report()
    for key, fp in sorted(locked.items()):
        if key[0] not in apps:
            continue  # an app outside the checked set (or no longer installed)
        if key not in code.fingerprints:
            (report.squashed_away if key in code.replaced else report.deleted).append(key)
        elif not unchanged(fp, code.fingerprints[key]):
            report.edited[key] = explain(key, code, lockfile=lockfile)
    report.new = sorted(set(code.fingerprints) - set(locked))
    return report


def updated(locked: dict[Key, str], code: Migrations, report: Report) -> dict[Key, str]:
    """The lockfile with new migrations added and squashed-away ones dropped; edits kept out."""
    result = {k: v for k, v in locked.items() if k not in report.squashed_away}
    result.update({k: code.fingerprints[k] for k in report.new})
    return result


def explain(key: Key, code: Migrations, *, lockfile: Path) -> list[str]:
    """The semantic difference between the locked version of a migration and the current one."""
    source = _previous_source(code.files[key], lockfile=lockfile)
    if source is None:
        return ["fingerprint changed (no git history to show the previous version)"]
    try:
        with _loaded(source, key) as old:
            # Canonicalised while its module is importable: local functions are read from it.
            before = canonical(old)
    except Exception as exc:  # the old file may not import with today's code
        return [f"fingerprint changed (the previous version does not load: {exc})"]
    lines = describe(before, canonical(code.objects[key]))
    return lines or ["fingerprint changed"]


def at_revision(lockfile: Path, revision: str) -> str:
    """The lockfile's text at a git revision (the target branch of a pull request)."""
    folder = lockfile.resolve().parent
    top = (_git(folder, "rev-parse", "--show-toplevel") or "").strip()
    if not top:
        raise LockfileError(f"{lockfile} is not in a git repository: --base needs one")
    relative = lockfile.resolve().relative_to(Path(top).resolve()).as_posix()
    # The revision comes from a pipeline's arguments: resolved to a commit first, so that
    # nothing it says ("--output=...") can reach git as an option.
    verified = _git(
        Path(top), "rev-parse", "--verify", "--quiet", operands=(f"{revision}^{{commit}}",)
    )
    commit = (verified or "").strip()
    if not commit:
        raise LockfileError(f"git knows no commit {revision!r}")
    text = _git(Path(top), "show", operands=(f"{commit}:{relative}",))
    if text is None:
        raise LockfileError(f"git has no {relative} at {revision!r}")
    return text


def _git(cwd: Path, *options: str, operands: tuple[str, ...] = ()) -> str | None:
    """``git <options> --end-of-options <operands>``: an operand is never read as an option,
    whatever it says."""
    command = ["git", *options, *(("--end-of-options", *operands) if operands else ())]
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


def _previous_source(migration_file: Path, *, lockfile: Path) -> str | None:
    """The migration file as it was in the commit that last changed the lockfile."""
    folder = lockfile.resolve().parent
    commit = (
        _git(folder, "log", "-1", "--format=%H", operands=("--", lockfile.name)) or ""
    ).strip()
    top = (_git(folder, "rev-parse", "--show-toplevel") or "").strip()
    if not commit or not top:
        return None
    relative = migration_file.resolve().relative_to(Path(top).resolve())
    return _git(Path(top), "show", operands=(f"{commit}:{relative.as_posix()}",))


@contextlib.contextmanager
def _loaded(source: str, key: Key) -> Iterator[Any]:
    """The ``Migration`` of an old version of a file, importable only while in use: its
    module and temporary folder are gone afterwards."""
    name = f"_health_deep_previous_{uuid.uuid4().hex}"
    with tempfile.TemporaryDirectory(prefix="health_deep_lock_") as folder:
        path = Path(folder) / f"{name}.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
            yield module.Migration(key[1], key[0])
        finally:
            sys.modules.pop(name, None)
