"""Zero false alarms on popular third-party apps: migrate them, then run every check.

    pip install -r tests/realworld/requirements.txt
    python tests/realworld/run.py                 # SQLite, PostgreSQL and MariaDB
    python tests/realworld/run.py --backends sqlite --configs base

Every backend is tried in several site configurations (DEFAULT_AUTO_FIELD, LANGUAGE_CODE,
USE_TZ), each on a freshly migrated database. A run passes when the checks find nothing
above info level, except the true findings listed in EXPECTED, and when health_deep's W106
names exactly the apps that ``makemigrations --check --dry-run`` wants to write migrations
for in the same environment. Exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

# Site configurations: name -> environment, and the backends each runs on. Every package is
# migrated on every backend (base); each extra configuration runs on SQLite and one server,
# one of the two per run, rotating by day (``--full``: both),
# which keeps the scan inside CI's time (a migrate of all the packages takes minutes).
CONFIGS: dict[str, dict[str, str]] = {
    "base": {
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "LANGUAGE_CODE": "en-us",
        "USE_TZ": "1",
    },
    "autofield-de-naive": {
        "DEFAULT_AUTO_FIELD": "django.db.models.AutoField",
        "LANGUAGE_CODE": "de",
        "USE_TZ": "0",
    },
    "ja-naive": {
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "LANGUAGE_CODE": "ja",
        "USE_TZ": "0",
    },
}

BACKENDS = {
    "base": ("sqlite", "postgresql", "mariadb"),
    "autofield-de-naive": ("sqlite", "postgresql"),
    "ja-naive": ("sqlite", "mariadb"),
}

# True findings that are expected, each with why: only info-level ones may be listed here.
EXPECTED = {
    (
        "mariadb",
        "health_deep.I222",
        f"wagtailsearch_indexentry.{name}",
    ): "Wagtail's migration adds MySQL FULLTEXT indexes with RunSQL; no model declares them"
    for name in ("fulltext_body", "fulltext_title", "fulltext_title_body", "fulltext_autocomplete")
}


def sampled(config: str, *, full: bool = False) -> tuple[str, ...]:
    """The backends ``config`` runs on in this run: the base configuration on all three; each
    extra one on one of its two, which changes every day (and differs between the two), so
    every pair is scanned every other day within CI's time."""
    backends = BACKENDS[config]
    if full or config == "base":
        return backends
    day = time.gmtime().tm_yday + list(CONFIGS).index(config)
    return (backends[day % len(backends)],)


def scan(backend: str, config: str) -> tuple[list[str], float]:
    """The unexpected findings above info level of one backend and configuration."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hd_realworld_") as tmp:
        env = {
            **os.environ,
            **CONFIGS[config],
            "DJANGO_SETTINGS_MODULE": "tests.realworld.settings",
            "PYTHONPATH": str(ROOT),
            "REALWORLD_SQLITE": str(Path(tmp) / "db.sqlite3"),
            "PYTHONWARNINGS": "ignore",
        }
        database = f"hd_realworld_{uuid.uuid4().hex[:8]}"
        if backend == "postgresql":
            env["REALWORLD_PG"] = database
            _pg(f'CREATE DATABASE "{database}"')
        elif backend == "mariadb":
            env["REALWORLD_MYSQL"] = database
            _mysql(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
        try:
            django = [sys.executable, "-m", "django"]
            migrate = subprocess.run(
                [*django, "migrate", "-v0"], env=env, capture_output=True, text=True, cwd=tmp
            )
            if migrate.returncode:
                return [f"migrate failed: {migrate.stderr.strip()[-2000:]}"], 0.0
            result = subprocess.run(
                [*django, "health_deep", "--format", "json"],
                env=env,
                capture_output=True,
                text=True,
                cwd=tmp,
            )
            report = json.loads(result.stdout)
            makemigrations = subprocess.run(
                [*django, "makemigrations", "--check", "--dry-run", "--noinput"],
                env=env,
                capture_output=True,
                text=True,
                cwd=tmp,
            )
        finally:
            if backend == "postgresql":
                _pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            elif backend == "mariadb":
                _mysql(f"DROP DATABASE IF EXISTS `{database}`")
    problems = [
        f"{f['id']} {f['object']}: {f['message']}"
        for f in report["findings"]
        if f["severity"] != "info" and (backend, f["id"], f["object"]) not in EXPECTED
    ]
    problems += [
        f"{f['id']} {f['object']} is listed as expected but is {f['severity']}"
        for f in report["findings"]
        if f["severity"] != "info" and (backend, f["id"], f["object"]) in EXPECTED
    ]
    w106 = {f["object"] for f in report["findings"] if f["id"] == "health_deep.W106"}
    wanted = set(re.findall(r"Migrations for '([^']+)'", makemigrations.stdout))
    if w106 != wanted or (makemigrations.returncode == 0) != (not wanted):
        problems.append(
            f"W106 names {sorted(w106)}, makemigrations --check names "
            f"{sorted(wanted)} (exit {makemigrations.returncode})"
        )
    return problems, time.monotonic() - started


def _pg(statement: str) -> None:
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(statement)


def _mysql(statement: str) -> None:
    import MySQLdb

    conn = MySQLdb.connect(host="127.0.0.1", user="root", passwd="")
    try:
        conn.cursor().execute(statement)
    finally:
        conn.close()


_PACKAGES_WITH_MODELS = """
import json, django
from importlib import metadata
django.setup()
from django.apps import apps
owners = metadata.packages_distributions()
found = {}
for model in apps.get_models(include_auto_created=True):
    top = model.__module__.split(".")[0]
    for dist in owners.get(top, []):
        if dist.lower() not in ("django", "health-deep"):
            found[dist] = metadata.version(dist)
print(json.dumps(sorted(f"{name}=={version}" for name, version in found.items())))
"""


def packages_with_models() -> list[str]:
    """The installed distributions that bring at least one model into the scan's site."""
    with tempfile.TemporaryDirectory(prefix="hd_realworld_") as tmp:
        env = {
            **os.environ,
            **CONFIGS["base"],
            "PYTHONWARNINGS": "ignore",
            "DJANGO_SETTINGS_MODULE": "tests.realworld.settings",
            "PYTHONPATH": str(ROOT),
            "REALWORLD_SQLITE": str(Path(tmp) / "db.sqlite3"),
        }
        out = subprocess.run(
            [sys.executable, "-c", _PACKAGES_WITH_MODELS],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp,
        ).stdout
    return list(json.loads(out))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql", "mariadb"])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--jobs", type=int, default=3, help="scans run at once")
    parser.add_argument(
        "--full",
        action="store_true",
        help="run each extra configuration on both its backends, not one rotating by day",
    )
    parser.add_argument(
        "--every-backend",
        action="store_true",
        help="run each configuration on every backend, not the sample",
    )
    args = parser.parse_args()
    apps = packages_with_models()
    print(f"realworld: {len(apps)} packages with models: {', '.join(apps)}", flush=True)
    for name in args.configs:
        print(
            f"realworld: configuration {name}: "
            + ", ".join(f"{k}={v}" for k, v in CONFIGS[name].items())
            + f" on {', '.join(sampled(name, full=args.full))}",
            flush=True,
        )
    runs = [
        (backend, config)
        for config in args.configs
        for backend in args.backends
        if backend in sampled(config, full=args.full) or args.every_backend
    ]
    started = time.monotonic()
    failed = 0
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(scan, *run): run for run in runs}
        for future in as_completed(futures):
            (backend, config), (problems, seconds) = futures[future], future.result()
            print(
                f"{backend:10} {config:20} {seconds:6.0f} s  problems: {len(problems)}", flush=True
            )
            for line in problems:
                print(f"    {line}", flush=True)
            failed += bool(problems)
    print(
        f"realworld: {len(runs) - failed} passed, {failed} failed "
        f"in {time.monotonic() - started:.0f} s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
