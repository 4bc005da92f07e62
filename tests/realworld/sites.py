"""Whole real sites, installed from PyPI as their operators install them, with health_deep added
as the README says: zero critical findings on a clean migrate, W106 exactly where the site's
own ``makemigrations --check`` agrees, a served ``/health/ready/`` that answers 200 from a
fresh worker's first probe, and the smoke coverage figures.

    python -m venv .venv-site-pretix
    .venv-site-pretix/bin/pip install -e . -r tests/realworld/sites-requirements.txt
    .venv-site-pretix/bin/python tests/realworld/sites.py            # PostgreSQL (and SQLite)

Run with the site's own virtualenv: every step is ``sys.executable -m django`` in a throwaway
folder holding the site's configuration. Exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# pretix mounts URLs only through its plugins (its middleware picks the URLconf per domain), so
# /health/ comes from a two-file plugin, as an operator would add it.
PRETIX_FILES = {
    "hd_settings.py": """
import os
from pretix.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "health_check", "health_deep", "hd_pretix"]  # noqa: F405
HEALTH_DEEP = {"CODE_FACTS_DIR": os.environ["SITE_CODE_FACTS"]}
""",
    "hd_wsgi.py": """
from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
""",
    "hd_pretix/__init__.py": "",
    "hd_pretix/apps.py": """
from pretix.base.plugins import PluginConfig


class HealthDeepPlugin(PluginConfig):
    name = "hd_pretix"
    verbose_name = "health_deep"
    default = True

    class PretixPluginMeta:
        name = "health_deep"
        author = "health_deep"
        version = "0"
        category = "INTEGRATION"
        description = "/health/ from health_deep"
        visible = False
""",
    "hd_pretix/urls.py": """
from django.urls import include, path

urlpatterns = [path("health/", include("health_deep.urls"))]
""",
}


def pretix_config(folder: Path, backend: str, database: str) -> str:
    if backend == "postgresql":
        db = f"backend=postgresql\nname={database}\nuser=postgres\nhost=127.0.0.1\nport=5432\n"
    else:
        db = f"backend=sqlite3\nname={folder / 'db.sqlite3'}\n"
    return (
        f"[pretix]\ninstance_name=health_deep scan\nurl=http://127.0.0.1\n"
        f"datadir={folder / 'data'}\n\n[database]\n{db}\n[mail]\nfrom=scan@example.org\n"
    )


SITES: dict[str, dict[str, object]] = {
    "pretix": {
        "files": PRETIX_FILES,
        "config": ("pretix.cfg", "PRETIX_CONFIG_FILE", pretix_config),
        "backends": ("postgresql", "sqlite"),
    },
}


def scan(site: str, backend: str) -> tuple[list[str], list[str]]:
    """(problems, report lines) of one site on one backend."""
    spec = SITES[site]
    lines: list[str] = []
    database = f"hd_site_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix=f"hd_site_{site}_") as tmp:
        folder = Path(tmp)
        for name, text in spec["files"].items():  # type: ignore[attr-defined]
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text.lstrip())
        (folder / "data").mkdir()
        filename, variable, make_config = spec["config"]  # type: ignore[misc]
        config: Callable[[Path, str, str], str] = make_config
        (folder / filename).write_text(config(folder, backend, database))
        env = {
            **os.environ,
            variable: str(folder / filename),
            "DJANGO_SETTINGS_MODULE": "hd_settings",
            "PYTHONPATH": str(folder),
            "SITE_CODE_FACTS": str(folder / "facts"),
            "PYTHONWARNINGS": "ignore",
        }
        if backend == "postgresql":
            _pg(f'CREATE DATABASE "{database}"')
        try:
            return _scan_in(folder, env, lines)
        finally:
            if backend == "postgresql":
                _pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _scan_in(folder: Path, env: dict[str, str], lines: list[str]) -> tuple[list[str], list[str]]:
    django = [sys.executable, "-m", "django"]

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*django, *args], env=env, cwd=folder, capture_output=True, text=True, timeout=900
        )

    started = time.monotonic()
    migrate = manage("migrate", "-v0")
    if migrate.returncode:
        return [f"migrate failed: {migrate.stderr.strip()[-2000:]}"], lines
    lines.append(f"migrate {time.monotonic() - started:.0f} s")
    report = json.loads(manage("health_deep", "--format", "json").stdout)
    makemigrations = manage("makemigrations", "--check", "--dry-run", "--noinput")
    problems = [
        f"{f['id']} {f['object']}: {f['message']}"
        for f in report["findings"]
        if f["severity"] != "info" and f["id"] != "health_deep.W106"
    ]
    w106 = sorted(f["object"] for f in report["findings"] if f["id"] == "health_deep.W106")
    wanted = sorted(set(re.findall(r"Migrations for '([^']+)'", makemigrations.stdout)))
    lines.append(f"W106 {w106 or 'none'}; its makemigrations --check: {wanted or 'none'}")
    if w106 != wanted:
        problems.append(f"W106 names {w106}, makemigrations --check names {wanted}")
    by_id = {f["id"]: f for f in report["findings"]}
    if "health_deep.I306" in by_id:
        problems.append(f"smoke queries left out: {by_id['health_deep.I306']['message']}")
    coverage = by_id.get("health_deep.I305")
    if coverage:
        details = coverage["details"]
        reasons: dict[str, int] = {}
        for entry in details.get("not_covered", []):
            reason = entry["reason"].split(":")[0]
            reasons[reason] = reasons.get(reason, 0) + 1
        lines.append(coverage["message"])
        lines.append(
            "not covered, by reason: "
            + "; ".join(f"{n} {r}" for r, n in sorted(reasons.items(), key=lambda i: -i[1]))
        )
    problems += _serve(folder, env, lines)
    return problems, lines


def _serve(folder: Path, env: dict[str, str], lines: list[str]) -> list[str]:
    """A fresh gunicorn worker's answers to /health/ready/ from its first probe on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "2", "hd_wsgi"],
        env=env,
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    answers: list[tuple[float, int, str]] = []
    started = time.monotonic()
    try:
        while time.monotonic() - started < 60:
            code, body = _get(f"http://127.0.0.1:{port}/health/ready/")
            if code:
                answers.append((time.monotonic() - started, code, body))
                if len(answers) >= 10:
                    break
            time.sleep(0.25)
        deep, body = _get(f"http://127.0.0.1:{port}/health/")
    finally:
        server.terminate()
        server.wait(timeout=30)
    if not answers:
        return ["gunicorn never answered /health/ready/"]
    first = answers[0]
    lines.append(
        f"served: first /health/ready/ {first[1]} at {first[0]:.1f} s after start; "
        f"{sum(c == 200 for _, c, _ in answers)}/{len(answers)} 200; /health/ {deep}"
    )
    problems = [
        f"/health/ready/ answered {code} at {at:.1f} s: {body[:300]}"
        for at, code, body in answers
        if code != 200
    ]
    if deep != 200:
        problems.append(f"/health/ answered {deep}: {body[:300]}")
    return problems


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except OSError:
        return 0, ""


def _pg(statement: str) -> None:
    # The site's own driver (pretix brings psycopg2), in autocommit for CREATE DATABASE.
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    conn.autocommit = True
    try:
        conn.cursor().execute(statement)
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", nargs="+", default=list(SITES), choices=list(SITES))
    parser.add_argument("--backends", nargs="+", default=["postgresql", "sqlite"])
    parser.add_argument("--jobs", type=int, default=2, help="runs at once")
    args = parser.parse_args()
    runs = [
        (site, backend)
        for site in args.sites
        for backend in args.backends
        if backend in SITES[site]["backends"]  # type: ignore[operator]
    ]
    failed = 0
    started = time.monotonic()
    # Each run has its own database, folder and port: two at once, one per core.
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(scan, *run): run for run in runs}
        for future in as_completed(futures):
            (site, backend), (problems, lines) = futures[future], future.result()
            print(f"sites: {site} on {backend}: {len(problems)} problem(s)", flush=True)
            for line in lines:
                print(f"    {line}", flush=True)
            for line in problems:
                print(f"    PROBLEM {line}", flush=True)
            failed += bool(problems)
    print(
        f"sites: {len(runs) - failed} passed, {failed} failed in {time.monotonic() - started:.0f} s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
