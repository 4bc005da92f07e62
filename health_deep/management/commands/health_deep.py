"""``manage.py health_deep``: the health checks without HTTP, for CI/CD and operators.

    health_deep [check]   run the checks
    health_deep accept    record an intended edit of an applied migration
    health_deep lock      write or check the migration lockfile (no database needed)
    health_deep plan      before ``migrate``: do the pending migrations break the running release?
    health_deep probe URL ask a running server's endpoint (a container HEALTHCHECK)

Exit codes: 0 healthy (warnings allowed unless ``--strict``), 1 critical findings
(or warnings with ``--strict``, a lockfile check that failed, a pending migration that breaks
the running release), 2 the command could not run (bad arguments, settings, no database).
"""

from __future__ import annotations

import json
import logging
import math
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from health_deep import conf, dbguard, probe_client, rollout, runner
from health_deep.dbguard import failure_finding
from health_deep.findings import Finding, Severity, status_of
from health_deep.history import ledger, lockfile

logger = logging.getLogger("health_deep")

EXIT_OK, EXIT_CRITICAL, EXIT_USAGE = 0, 1, 2
MAX_BUDGET = 3600.0  # seconds: past an hour a deploy gate is no longer a gate
CHECKS = ("migrations", "schema", "smoke")


class Command(BaseCommand):
    help = "Run health_deep's checks (default), or accept an intended edit of a migration."
    requires_system_checks: list[str] = []  # a broken site must still be diagnosable

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="{check,accept,lock,plan,probe}")
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
        lock.add_argument(
            "--base",
            metavar="REV",
            help="with --check: judge the migrations not in the lockfile of git revision REV "
            "(the target branch) against the release it describes (default: the migrations "
            "not in the lockfile on disk)",
        )
        lock.add_argument(
            "--no-plan",
            action="store_true",
            help="with --check: do not judge new migrations against the running release",
        )
        plan = actions.add_parser(
            "plan",
            help="before migrate: exit 1 when a pending migration breaks the release still "
            "running, or existing rows make it fail",
        )
        plan.add_argument("--database", default="default")
        plan.add_argument("--format", choices=("text", "json"), default="text")
        plan.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
        plan.add_argument(
            "--budget",
            type=float,
            default=10.0,
            help="seconds, in all, for counting the rows pending migrations would fail on "
            "(default 10)",
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
        if options.get("action") == "plan":
            raise SystemExit(self._plan(options))
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
            write_findings(self, findings)
        worst = max((f.severity for f in findings), default=None)
        threshold = Severity.WARNING if options["strict"] else Severity.CRITICAL
        if worst is not None and worst >= threshold:
            raise SystemExit(EXIT_CRITICAL)

    def _plan(self, options: dict[str, Any]) -> int:
        alias = options["database"]
        if alias not in settings.DATABASES:
            raise CommandError(f"--database {alias}: not in settings.DATABASES", returncode=2)
        budget = options["budget"]
        if not math.isfinite(budget) or not 0 < budget <= MAX_BUDGET:
            raise CommandError(
                f"--budget must be more than 0 and at most {MAX_BUDGET:g} seconds",
                returncode=EXIT_USAGE,
            )
        try:
            # On the client too: a server that stops answering mid-count costs the budget
            # and a second, never a hang (the budget is the server's statement timeout).
            plan = dbguard.bounded(
                lambda: rollout.against_database(alias, budget=budget), seconds=budget
            )
        except DatabaseError as exc:
            finding = failure_finding(alias, "plan", exc)
            raise CommandError(f"{finding.message} {exc}", returncode=EXIT_USAGE) from exc
        except Exception as exc:  # a bug or broken code: "could not run", never "safe"
            logger.exception("health_deep plan failed")
            raise CommandError(
                f"The plan could not be made: {type(exc).__name__}: {exc}", returncode=EXIT_USAGE
            ) from exc
        if options["format"] == "json":
            self.stdout.write(json.dumps(plan_json(plan), indent=2))
        else:
            self._print_plan(plan)
        return plan_exit(plan.findings, strict=options["strict"])

    def _print_plan(self, plan: rollout.Plan) -> None:
        behind = [state for state in plan.tenants if state.pending]
        if not plan.pending and not behind:
            self.stdout.write(f"health_deep plan: nothing to migrate on '{plan.alias}'.")
            return
        names = ", ".join(f"{app}.{name}" for app, name in plan.pending) or "nothing"
        self.stdout.write(f"Pending on '{plan.alias}': {names}")
        for state in behind:
            pending = ", ".join(f"{app}.{name}" for app, name in state.pending)
            self.stdout.write(
                f"Pending in {len(state.schemas)} tenant schema(s) "
                f"({', '.join(state.schemas[:3])}{' ...' if len(state.schemas) > 3 else ''}): "
                f"{pending}"
            )
        if not plan.exact:
            self.stdout.write(
                "Some database operations could not be followed; judged by the migration "
                "state instead."
            )
        verdict = "breaks" if plan.critical else "is safe for"
        self.stdout.write(f"health_deep plan: migrate {verdict} the release running now.")
        write_findings(self, plan.findings, header=False)

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


def write_findings(command: BaseCommand, findings: list[Finding], *, header: bool = True) -> None:
    """Findings as text, worst first (the check, the plan and ``lock --check`` share it)."""
    counts = {s: sum(f.severity is s for f in findings) for s in Severity}
    if header:
        command.stdout.write(
            f"health_deep: {status_of(findings)} ({counts[Severity.CRITICAL]} critical, "
            f"{counts[Severity.WARNING]} warning, {counts[Severity.INFO]} info)"
        )
    style = {
        Severity.CRITICAL: command.style.ERROR,
        Severity.WARNING: command.style.WARNING,
        Severity.INFO: command.style.NOTICE,
    }
    for f in sorted(findings, key=lambda f: (-f.severity, f.id, f.alias, f.object)):
        where = f" [{f.alias}]" if f.alias else ""
        command.stdout.write(
            style[f.severity](f"{f.severity.label.upper():8} {f.id}{where} {f.object}")
        )
        command.stdout.write(f"         {f.message}")
        if f.hint:
            command.stdout.write(f"         hint: {f.hint}")


def plan_json(plan: rollout.Plan) -> dict[str, Any]:
    return {
        "status": status_of(plan.findings),
        "alias": plan.alias,
        "pending": [f"{app}.{name}" for app, name in plan.pending],
        "exact": plan.exact,
        "tenants": [
            {
                "kind": state.kind,
                "schemas": state.schemas,
                "pending": [f"{app}.{name}" for app, name in state.pending],
            }
            for state in plan.tenants
        ],
        "findings": [f.as_dict() for f in plan.findings],
    }


def plan_exit(findings: list[Finding], *, strict: bool) -> int:
    worst = max((f.severity for f in findings), default=None)
    threshold = Severity.WARNING if strict else Severity.CRITICAL
    return EXIT_CRITICAL if worst is not None and worst >= threshold else EXIT_OK


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
        path.write_text(lockfile.render(code.fingerprints), encoding="utf-8")
        command.stdout.write(f"Wrote {len(code.fingerprints)} migration fingerprints to {path}.")
        return EXIT_OK
    if not path.exists():
        command.stderr.write(
            f"No lockfile at {path}: create it with `manage.py health_deep lock` and commit it."
        )
        return EXIT_CRITICAL
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        command.stderr.write(
            f"{path}: not UTF-8 text (byte {exc.start}): regenerate it with "
            "`manage.py health_deep lock`"
        )
        return EXIT_USAGE
    try:
        locked = lockfile.parse(text)
    except lockfile.LockfileError as exc:
        command.stderr.write(f"{path}: {exc}")
        return EXIT_CRITICAL
    report = lockfile.compare(locked, code, apps=apps, lockfile=path)
    _print_lock_report(command, report, path, update=options["update"])
    if options["update"] and (report.new or report.squashed_away):
        path.write_text(lockfile.render(lockfile.updated(locked, code, report)), encoding="utf-8")
    failed = report.failed(allow_new=options["update"])
    if not failed:
        command.stdout.write(f"{path}: {len(code.fingerprints)} migrations match.")
    _report_smoke_lock(command)
    try:
        new = _new_since(options.get("base"), path, code, report)
    except lockfile.LockfileError as exc:
        command.stderr.write(str(exc))
        return EXIT_USAGE
    if new and not options.get("no_plan"):
        names = ", ".join(f"{app}.{name}" for app, name in sorted(new))
        try:
            plan = rollout.against_lockfile(new)
        except DatabaseError as exc:  # MySQL states some types and features by its version
            command.stdout.write(
                f"Deploy plan: not judged: the new migrations ({names}) need the server to "
                f"say what they make on this backend ({type(exc).__name__}); run "
                "`manage.py health_deep plan` against it."
            )
            return EXIT_CRITICAL if failed else EXIT_OK
        verdict = "break" if plan.critical else "are safe for"
        command.stdout.write(
            f"Deploy plan: the new migrations ({names}) {verdict} the release the lockfile "
            "describes, while it still serves."
        )
        write_findings(command, plan.findings, header=False)
        failed = failed or plan.critical
    return EXIT_CRITICAL if failed else EXIT_OK


def _report_smoke_lock(command: BaseCommand) -> None:
    """Say which endpoints neither introspection nor ``smoke.lock`` covers (when there is a
    smoke lockfile: recording is opt-in). Never fails the check: a recording is refreshed
    by a test run, not in review."""
    from health_deep.smoke import lockfile as smoke_lockfile
    from health_deep.smoke import recorded
    from health_deep.smoke.planning import smoke_endpoints

    path = conf.get().smoke_lock
    try:
        recording = smoke_lockfile.read(path)
    except smoke_lockfile.Invalid as exc:
        command.stdout.write(f"{path}: cannot be used: {exc}.")
        return
    if recording is None:
        return
    missing = recorded.unrecorded(smoke_endpoints(), recording)
    if not missing:
        command.stdout.write(f"{path}: every endpoint is covered, read off its view or recorded.")
        return
    shown = ", ".join(e.label for e in missing[:10]) + (" ..." if len(missing) > 10 else "")
    command.stdout.write(
        f"{path}: {len(missing)} endpoint(s) are neither read off their views nor recorded "
        f"(record them: pytest --health-deep-record): {shown}"
    )


def _new_since(
    base: str | None, path: Path, code: lockfile.Migrations, report: lockfile.Report
) -> set[tuple[str, str]]:
    """The migrations the release under review adds: not in the lockfile of ``base`` (a git
    revision), or else not in the lockfile on disk."""
    if not base:
        return set(report.new)
    text = lockfile.at_revision(path, base)
    return set(code.fingerprints) - set(lockfile.parse(text))


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
