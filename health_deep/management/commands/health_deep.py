"""``manage.py health_deep``: the health checks without HTTP, for CI/CD and operators.

    health_deep [check]   run the checks
    health_deep accept    record an intended edit of an applied migration
    health_deep lock      write or check the migration lockfile (no database needed)
    health_deep probe URL ask a running server's endpoint (a container HEALTHCHECK)

Exit codes: 0 healthy (warnings allowed unless ``--strict``), 1 critical findings
(or warnings with ``--strict``, or a lockfile check that failed), 2 the command could not
run (bad arguments or settings).
"""

from __future__ import annotations

import json
import logging
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from health_deep import conf, probe_client, runner
from health_deep.findings import Finding, Severity, status_of
from health_deep.history import ledger, lockfile

logger = logging.getLogger("health_deep")

EXIT_OK, EXIT_CRITICAL, EXIT_USAGE = 0, 1, 2
CHECKS = ("migrations", "schema", "smoke")


class Command(BaseCommand):
    help = "Run health_deep's checks (default), or accept an intended edit of a migration."
    requires_system_checks: list[str] = []  # a broken site must still be diagnosable

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="{check,accept,lock,probe}")
        check = actions.add_parser("check", help="run the checks (the default)")
        self._check_arguments(check)
        self._check_arguments(parser)
        accept = actions.add_parser(
            "accept", help="record the current fingerprint of an edited, applied migration"
        )
        accept.add_argument("migration", help="app_label.migration_name")
        accept.add_argument("--database", default="default")
        accept.add_argument("--reason", required=True, help="why the edit is intended")
        accept.add_argument("--by", help="who accepts it (default: the OS user)")
        lock = actions.add_parser(
            "lock", help="write the migration lockfile, or check the code against it"
        )
        lock.add_argument("--path", help="the lockfile (default: HEALTH_DEEP['LOCKFILE'])")
        lock.add_argument(
            "--check",
            action="store_true",
            help="exit 1 when a locked migration was edited or deleted, or a "
            "new one is not locked yet",
        )
        lock.add_argument(
            "--update", action="store_true", help="with --check: add new migrations to the lockfile"
        )
        lock.add_argument(
            "--all-apps",
            action="store_true",
            help="lock installed packages' migrations too, not only the project's",
        )

        probe = actions.add_parser(
            "probe",
            help="ask a running server's health endpoint: exit 0 on 200, 1 on 503, 2 when "
            "it gives no answer (for Docker HEALTHCHECK)",
        )
        probe.add_argument("url", help="e.g. http://127.0.0.1:8000/health/ready/")
        probe.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")
        probe.add_argument("--quiet", action="store_true", help="print nothing")

    @staticmethod
    def _check_arguments(parser: ArgumentParser) -> None:
        parser.add_argument(
            "--database",
            action="append",
            dest="databases",
            help="check only this alias (repeatable; default: all)",
        )
        parser.add_argument("--format", choices=("text", "json"), default="text")
        parser.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
        parser.add_argument(
            "--check",
            action="append",
            dest="checks",
            choices=CHECKS,
            help="run only this check (repeatable; default: all)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("action") == "probe":  # needs no database and no valid setting
            code, line = probe_client.probe(
                options["url"], timeout=options["timeout"], token=conf.get().token
            )
            if not options["quiet"]:
                self.stdout.write(line)
            raise SystemExit(code)
        unknown = sorted(set(options.get("databases") or ()) - set(settings.DATABASES))
        if unknown:
            raise CommandError(
                f"--database {', '.join(unknown)}: not in settings.DATABASES", returncode=EXIT_USAGE
            )
        problems = conf.problems()
        if problems:
            raise CommandError("; ".join(problems), returncode=EXIT_USAGE)
        if options.get("action") == "accept":
            self._accept(options)
            return
        if options.get("action") == "lock":
            raise SystemExit(run_lock(self, options))
        options["checks"] = options.get("checks") or CHECKS
        try:
            findings = _run_checks(options)
        except Exception as exc:  # a bug in health_deep itself: "could not run", not a 1
            logger.exception("health_deep's checks failed")
            raise CommandError(
                f"The checks could not run: {type(exc).__name__}: {exc}", returncode=EXIT_USAGE
            ) from exc
        if options["format"] == "json":
            self.stdout.write(
                json.dumps(
                    {"status": status_of(findings), "findings": [f.as_dict() for f in findings]},
                    indent=2,
                )
            )
        else:
            self._print(findings)
        worst = max((f.severity for f in findings), default=None)
        threshold = Severity.WARNING if options["strict"] else Severity.CRITICAL
        if worst is not None and worst >= threshold:
            raise SystemExit(EXIT_CRITICAL)

    def _print(self, findings: list[Finding]) -> None:
        counts = {s: sum(f.severity is s for f in findings) for s in Severity}
        self.stdout.write(
            f"health_deep: {status_of(findings)} ({counts[Severity.CRITICAL]} critical, "
            f"{counts[Severity.WARNING]} warning, {counts[Severity.INFO]} info)"
        )
        style = {
            Severity.CRITICAL: self.style.ERROR,
            Severity.WARNING: self.style.WARNING,
            Severity.INFO: self.style.NOTICE,
        }
        for f in sorted(findings, key=lambda f: (-f.severity, f.id, f.alias, f.object)):
            where = f" [{f.alias}]" if f.alias else ""
            self.stdout.write(
                style[f.severity](f"{f.severity.label.upper():8} {f.id}{where} {f.object}")
            )
            self.stdout.write(f"         {f.message}")
            if f.hint:
                self.stdout.write(f"         hint: {f.hint}")

    def _accept(self, options: dict[str, Any]) -> None:
        app, sep, name = options["migration"].partition(".")
        if not sep or not app or not name:
            raise CommandError(
                "Name the migration as app_label.migration_name.", returncode=EXIT_USAGE
            )
        try:
            entry = ledger.accept(
                alias=options["database"],
                key=(app, name),
                reason=options["reason"],
                by=options["by"],
            )
        except ledger.AcceptError as exc:
            raise CommandError(str(exc), returncode=EXIT_USAGE) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Accepted {app}.{name} on '{options['database']}' as {entry.fingerprint} "
                f"(by {entry.recorded_by} at {entry.recorded_at.isoformat()})."
            )
        )


def _run_checks(options: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    if "migrations" in options["checks"]:
        findings += runner.migrations(options.get("databases"))
    if "schema" in options["checks"]:
        findings += runner.schema(options.get("databases"))
    if "smoke" in options["checks"]:
        findings += runner.smoke_findings()
    return findings


def run_lock(command: BaseCommand, options: dict[str, Any]) -> int:
    """``health_deep lock``: returns the exit code."""
    path = Path(options["path"] or conf.get().lockfile)
    apps = lockfile.project_apps(include_installed=options["all_apps"])
    code = lockfile.load(apps)
    if not options["check"]:
        path.write_text(lockfile.render(code.fingerprints))
        command.stdout.write(f"Wrote {len(code.fingerprints)} migration fingerprints to {path}.")
        return EXIT_OK
    if not path.exists():
        command.stderr.write(
            f"No lockfile at {path}: create it with `manage.py health_deep lock` and commit it."
        )
        return EXIT_CRITICAL
    try:
        locked = lockfile.parse(path.read_text())
    except lockfile.LockfileError as exc:
        command.stderr.write(f"{path}: {exc}")
        return EXIT_CRITICAL
    report = lockfile.compare(locked, code, apps=apps, lockfile=path)
    _print_lock_report(command, report, path, update=options["update"])
    if options["update"] and (report.new or report.squashed_away):
        path.write_text(lockfile.render(lockfile.updated(locked, code, report)))
    failed = report.failed(allow_new=options["update"])
    if not failed:
        command.stdout.write(f"{path}: {len(code.fingerprints)} migrations match.")
    return EXIT_CRITICAL if failed else EXIT_OK


def _print_lock_report(
    command: BaseCommand, report: lockfile.Report, path: Path, *, update: bool
) -> None:
    out, style = command.stdout, command.style
    for (app, name), changes in report.edited.items():
        out.write(style.ERROR(f"EDITED   {app}.{name}: changed after it was locked"))
        for change in changes:
            out.write(f"         {change}")
    for app, name in report.deleted:
        out.write(style.ERROR(f"DELETED  {app}.{name}: locked, but no longer in the code"))
    for app, name in report.squashed_away:
        out.write(
            f"SQUASHED {app}.{name}: replaced by a squashed migration"
            + (" (line dropped)" if update else "")
        )
    for app, name in report.new:
        verb = "added to the lockfile" if update else "not in the lockfile yet"
        paint = style.SUCCESS if update else style.WARNING
        out.write(paint(f"NEW      {app}.{name}: {verb}"))
    if report.edited:
        out.write(
            "An applied migration must not change: revert the edit and put the change in a new "
            "migration. If the edit is intended (and every database already matches it), "
            f"regenerate with `manage.py health_deep lock`, review the diff of {path.name} "
            "and give the reason in the commit message."
        )
    if report.new and not update:
        out.write("Run `manage.py health_deep lock --check --update` to lock new migrations.")
