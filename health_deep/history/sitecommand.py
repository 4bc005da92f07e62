"""The verdict of a site's own ``makemigrations`` command, when it is not Django's.

Some sites replace ``makemigrations`` with a command that changes what counts as a model
change inside ``handle()`` (pretix removes ``help_text``, ``verbose_name`` and others from every
field's ``deconstruct()`` before it calls Django's). Such a verdict cannot be reproduced with
the autodetector alone, and running that ``handle()`` in a serving process would leave its
patches in place for good. So the command runs in a child process of its own, with this
process's settings module, import path and environment, as ``manage.py makemigrations --check
--dry-run`` would; the child reports the changes it would write as JSON and writes nothing.

Run as ``python -m health_deep.history.sitecommand OUT`` (the child side).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import Any

# The child loads the whole site; a large one (pretix: ~900 endpoints, 200 models) takes a few
# seconds. A child still running after this is stopped, and the verdict is unknown.
TIMEOUT = 180.0

# Set in the child's environment: its health_deep starts nothing in the background.
CHILD_ENV = "HEALTH_DEEP_SITE_COMMAND"


class Unavailable(Exception):
    """The site's command could not give a verdict; the message says why."""


def customised(command: Any) -> bool:
    """True when ``command`` (the installed ``makemigrations``) replaces Django's ``handle()``:
    a different ``autodetector`` class alone is reproduced in process."""
    from django.core.management.commands.makemigrations import Command as Django

    return type(command).handle is not Django.handle


def changes(command_app: str) -> dict[str, list[str]]:
    """What ``makemigrations --check`` of ``command_app``'s command finds, per app."""
    from django.conf import settings

    module = settings.SETTINGS_MODULE
    if not module:
        raise Unavailable(
            f"the makemigrations command of '{command_app}' is its own, and it can only be "
            "run in a process of its own when the settings come from a module "
            "(DJANGO_SETTINGS_MODULE), not from settings.configure()"
        )
    paths = [os.getcwd() if entry == "" else entry for entry in sys.path]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": module,
        "PYTHONPATH": os.pathsep.join(paths),
        CHILD_ENV: "1",
    }
    with tempfile.TemporaryDirectory(prefix="health_deep-") as folder:
        out = os.path.join(folder, "changes.json")
        try:
            done = subprocess.run(
                [sys.executable, "-m", "health_deep.history.sitecommand", out],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise Unavailable(
                f"the makemigrations command of '{command_app}' did not finish within {TIMEOUT:g} s"
            ) from None
        except OSError as exc:
            raise Unavailable(f"no process could be started for it: {exc}") from None
        try:
            with open(out, encoding="utf-8") as file:
                reported = json.load(file)
        except (OSError, ValueError):
            last = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["-"]
            raise Unavailable(
                f"the makemigrations command of '{command_app}' failed "
                f"(exit {done.returncode}): {last[0][:300]}"
            ) from None
    found = reported.get("changes") if isinstance(reported, dict) else None
    if not isinstance(found, dict) or not all(
        isinstance(ops, list) and all(isinstance(o, str) for o in ops) for ops in found.values()
    ):
        raise Unavailable(f"the makemigrations command of '{command_app}' answered nonsense")
    return {str(app): ops for app, ops in sorted(found.items())}


def _run_in_child(out: str) -> int:
    import django

    django.setup()
    from django.core.management import call_command, get_commands, load_command_class
    from django.db.migrations.loader import MigrationLoader

    command: Any = load_command_class(get_commands()["makemigrations"], "makemigrations")
    found: dict[str, list[str]] = {}

    def capture(changes: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        for app, migrations in sorted(changes.items()):
            found[app] = [str(op.describe()) for m in migrations for op in m.operations]

    # What would be written is captured instead (--dry-run would print it, --check exits 1).
    command.write_migration_files = capture
    command.write_to_last_migration_files = capture
    # The history's consistency is E101/W102's business; the child never opens a connection.
    MigrationLoader.check_consistent_history = lambda self, connection: None  # type: ignore[method-assign]
    try:
        call_command(command, check_changes=True, dry_run=True, interactive=False, verbosity=0)
    except SystemExit as exc:
        if exc.code not in (None, 0, 1):  # 1: changes found, as --check says
            raise
    with open(out, "w", encoding="utf-8") as file:
        json.dump({"changes": found}, file)
    return 0


if __name__ == "__main__":
    sys.exit(_run_in_child(sys.argv[1]))
