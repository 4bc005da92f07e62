"""``manage.py health_deep``: the health checks without HTTP, for CI/CD and operators.

Exit codes: 0 healthy (warnings allowed unless ``--strict``), 1 critical findings
(or warnings with ``--strict``), 2 the command could not run (bad arguments or settings).
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from health_deep import conf, runner
from health_deep.findings import Finding, Severity, status_of
from health_deep.history import ledger

EXIT_OK, EXIT_CRITICAL, EXIT_USAGE = 0, 1, 2
CHECKS = ("migrations", "schema")


class Command(BaseCommand):
    help = "Run health_deep's checks (default), or accept an intended edit of a migration."
    requires_system_checks: list[str] = []  # a broken site must still be diagnosable

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="{check,accept}")
        check = actions.add_parser("check", help="run the checks (the default)")
        self._check_arguments(check)
        self._check_arguments(parser)
        accept = actions.add_parser(
            "accept", help="record the current fingerprint of an edited, applied migration")
        accept.add_argument("migration", help="app_label.migration_name")
        accept.add_argument("--database", default="default")
        accept.add_argument("--reason", required=True, help="why the edit is intended")
        accept.add_argument("--by", help="who accepts it (default: the OS user)")

    @staticmethod
    def _check_arguments(parser: ArgumentParser) -> None:
        parser.add_argument("--database", action="append", dest="databases",
                            help="check only this alias (repeatable; default: all)")
        parser.add_argument("--format", choices=("text", "json"), default="text")
        parser.add_argument("--strict", action="store_true",
                            help="exit 1 on warnings too")
        parser.add_argument("--check", action="append", dest="checks", choices=CHECKS,
                            help="run only this check (repeatable; default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        problems = conf.problems()
        if problems:
            raise CommandError("; ".join(problems), returncode=EXIT_USAGE)
        if options.get("action") == "accept":
            self._accept(options)
            return
        options["checks"] = options.get("checks") or CHECKS
        findings: list[Finding] = []
        if "migrations" in options["checks"]:
            findings += runner.migrations(options.get("databases"))
        if "schema" in options["checks"]:
            findings += runner.schema(options.get("databases"))
        if options["format"] == "json":
            self.stdout.write(json.dumps(
                {"status": status_of(findings), "findings": [f.as_dict() for f in findings]},
                indent=2))
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
            f"{counts[Severity.WARNING]} warning, {counts[Severity.INFO]} info)")
        style = {Severity.CRITICAL: self.style.ERROR, Severity.WARNING: self.style.WARNING,
                 Severity.INFO: self.style.NOTICE}
        for f in sorted(findings, key=lambda f: (-f.severity, f.id, f.alias, f.object)):
            where = f" [{f.alias}]" if f.alias else ""
            self.stdout.write(style[f.severity](f"{f.severity.label.upper():8} {f.id}{where} "
                                                f"{f.object}"))
            self.stdout.write(f"         {f.message}")
            if f.hint:
                self.stdout.write(f"         hint: {f.hint}")

    def _accept(self, options: dict[str, Any]) -> None:
        app, sep, name = options["migration"].partition(".")
        if not sep or not app or not name:
            raise CommandError("Name the migration as app_label.migration_name.",
                               returncode=EXIT_USAGE)
        try:
            entry = ledger.accept(alias=options["database"], key=(app, name),
                                  reason=options["reason"], by=options["by"])
        except ledger.AcceptError as exc:
            raise CommandError(str(exc), returncode=EXIT_USAGE) from exc
        self.stdout.write(self.style.SUCCESS(
            f"Accepted {app}.{name} on '{options['database']}' as {entry.fingerprint} "
            f"(by {entry.recorded_by} at {entry.recorded_at.isoformat()})."))
