"""How many endpoints the smoke check covers by introspection alone, and with a recording.

    python benchmarks/recorded_coverage.py example      # the example project
    .venv-realworld/bin/python benchmarks/recorded_coverage.py realworld   # the scan's apps

A site is migrated on a fresh SQLite database, given a superuser (and, for the example
project, a few rows), and every endpoint the URLconf has is asked with a GET as that user,
through the recording middleware (a crawl stands in for the site's own test run: each
route's parameters are filled with 1, "x" or a zero UUID, so a detail page of a row that does
not exist answers 404 and does not count). The recording is written to a smoke lockfile, and
the smoke check's coverage (I305) is compared without and with it, over the endpoints that
answered 200 in the recording run after their view read the database (one whose view reads
nothing, the session aside, has no query to cover), per app. Prints a table; not a test.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _setup(site: str, folder: Path, database_url: str | None) -> None:
    database = folder / "site.sqlite3"
    if site == "example":
        sys.path.insert(0, str(ROOT / "example_project"))
        os.environ["DJANGO_SETTINGS_MODULE"] = "example.settings"
        os.environ["DATABASE_URL"] = database_url or f"sqlite:///{database}"
    else:
        sys.path.insert(0, str(ROOT))
        os.environ["DJANGO_SETTINGS_MODULE"] = "tests.realworld.settings"
        os.environ["REALWORLD_SQLITE"] = str(database)
        os.environ["REALWORLD_URLCONF"] = "tests.realworld.urls_apps"
    os.chdir(folder)  # apps write media folders where they run
    import django

    django.setup()


def _seed(site: str) -> Any:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser("crawler", "crawler@example.com", "pw")
    if site == "example":
        from integrations.models import Integration, Webhook

        first = Integration.objects.create(name="billing", base_url="https://billing.example")
        Webhook.objects.create(integration=first, event="paid", target="https://hook.example")
    return user


_CONVERTED = re.compile(r"<(?:(\w+):)?\w+>")
_GROUP = re.compile(r"\(\?P<\w+>[^)]*\)")


def url_of(route: str) -> str | None:
    """A URL for ``route`` with each parameter filled in, or None for a pattern too irregular
    to fill."""
    fills = {"int": "1", "uuid": "00000000-0000-0000-0000-000000000000"}
    url = _CONVERTED.sub(lambda m: fills.get(m.group(1) or "", "x"), route)
    url = _GROUP.sub("1", url).replace("^", "").replace("$", "").replace("\\", "")
    return None if re.search(r"[()\[\]?*+|]", url) else url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", choices=("example", "realworld"))
    parser.add_argument(
        "--database-url", help="the example project's DATABASE_URL (an empty database)"
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hd_recorded_"))
    try:
        run(args.site, folder, args.database_url)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(site: str, folder: Path, database_url: str | None = None) -> None:
    _setup(site, folder, database_url)
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings

    from health_deep.smoke import planning, recording

    call_command("migrate", verbosity=0, interactive=False)
    user = _seed(site)
    lock = folder / "smoke.lock"
    endpoints = planning.smoke_endpoints()
    client = Client(raise_request_exception=False)
    client.force_login(user)
    ran: set[str] = set()  # answered 200 after reading the database: what a smoke query covers
    quiet: set[str] = set()  # answered 200 without a query: nothing to cover
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "health_deep.middleware.SmokeRecordingMiddleware"]
    recording.FORCED = True
    recorder = recording.RECORDER.recording
    for endpoint in endpoints:
        url = url_of(endpoint.route)
        if url is None:
            continue
        try:
            status = client.get(url, HTTP_ACCEPT="text/html").status_code
        except Exception:  # an app that cannot serve on this bare site: it did not run
            continue
        # Its view read the database: introspection says it does, or the recording (which
        # sees the view's own statements, not the session's) caught some.
        if status == 200 and (endpoint.covered or endpoint.route in recorder.endpoints):
            ran.add(endpoint.label)
        elif status == 200:
            quiet.add(endpoint.label)
    recording.FORCED = False
    recording.RECORDER.flush(str(lock))
    if os.environ.get("DEBUG_RECORDED"):
        print(lock.read_text()[:3000])
        print([(e.route, e.name, e.source) for e in endpoints])
    rows: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for label, with_recording in (("introspection", False), ("with recording", True)):
        options = {"SMOKE_LOCK": str(lock if with_recording else folder / "none.lock")}
        with override_settings(HEALTH_DEEP=options):
            for endpoint in planning.as_planned(planning.smoke_endpoints()):
                if endpoint.label not in ran:
                    continue
                app = endpoint.view.split(".")[0]
                if not with_recording:
                    rows[app]["ran"] += 1
                rows[app][label] += endpoint.covered
    if os.environ.get("DEBUG_RECORDED"):
        with override_settings(HEALTH_DEEP={"SMOKE_LOCK": str(lock)}):
            from health_deep.smoke import recorded as rec

            found = rec.load(planning.smoke_endpoints())
            for f in found.findings:
                for item in f.details.get("stale", []):
                    print("STALE", item)
            for endpoint in planning.as_planned(planning.smoke_endpoints()):
                if endpoint.label in ran and not endpoint.covered:
                    print("UNCOVERED", endpoint.label, endpoint.view)
    print("| app | endpoints that ran queries | covered by introspection | with the recording |")
    print("| --- | ---: | ---: | ---: |")
    total: collections.Counter[str] = collections.Counter()
    for app, counts in sorted(rows.items()):
        total.update(counts)
        print(_row(app, counts))
    print(_row("**all**", total))
    from health_deep import runner

    with override_settings(HEALTH_DEEP={"SMOKE_LOCK": str(lock), "SMOKE_DEADLINE": 30}):
        findings = runner.smoke_findings()
    replayed = [f for f in findings if f.severity.label != "info"]
    print(
        f"\nThe recorded queries replayed on the healthy site: {len(replayed)} finding(s) above "
        "info" + "".join(f"\n- {f.id} {f.object}: {f.message[:300]}" for f in replayed)
    )
    print(
        f"\n{len(endpoints)} endpoints in the URLconf; {len(ran) + len(quiet)} answered 200 to "
        f"the crawl, {len(quiet)} of them with views that read nothing."
    )


def _row(app: str, counts: collections.Counter[str]) -> str:
    ran = counts["ran"] or 1
    return (
        f"| {app} | {counts['ran']} | {counts['introspection']} "
        f"({100 * counts['introspection'] / ran:.0f}%) | {counts['with recording']} "
        f"({100 * counts['with recording'] / ran:.0f}%) |"
    )


if __name__ == "__main__":
    main()
