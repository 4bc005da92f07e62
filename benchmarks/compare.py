"""health_deep beside the alternatives, per probe, on generated schemas. Prints a table.

    pip install -r benchmarks/requirements.txt        # django-extensions, for sqldiff
    python benchmarks/compare.py                      # 50, 200, 500 models; SQLite, PostgreSQL
    python benchmarks/compare.py --models 500 --backends postgresql -n 30

For each size and backend, in one run, side by side:

- ``Database view``: django-health-check's view with only its ``Database`` check (the
  baseline every ratio is against);
- ``/health/ cached``: health_deep's ``/health/ready/`` served from the probe cache;
- ``deep uncached``: every health_deep check evaluated afresh (migrations, schema, smoke);
- ``migr.+schema``: the two checks that do what ``sqldiff`` does, evaluated afresh, and
  ``catalog changed``: the same with the catalog memo emptied first (its worst case);
- ``migrate --check`` and ``sqldiff -a`` (django-extensions), in process, without start-up.

Wall time per probe (median, p95), SQL statements per probe (every connection, every
thread), and RSS added by the first run. Requests go through Django's test client in
process, so the numbers are the application's cost without a network.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale

ROOT = Path(__file__).resolve().parent.parent

EXTRA_SETTINGS = """
INSTALLED_APPS += ["django_extensions"]
ALLOWED_HOSTS = ["testserver"]
DEBUG = False
HEALTH_DEEP = {"CACHE_TTL": 3600, "SMOKE_DEADLINE": 30, "STATEMENT_TIMEOUT": 30,
               "DEADLINE": 60}
ROOT_URLCONF = "benchurls"
"""

URLS = """
from django.urls import include, path
from health_check.views import HealthCheckView
urlpatterns = [
    path("db/", HealthCheckView.as_view(checks=["health_check.checks.Database"])),
    path("health/", include("health_deep.urls")),
    path("", include("genapp.urls")),
]
"""

MEASURE = r"""
import io, json, resource, statistics, sys, threading, time
import django
def rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024
django.setup()
from django.core.management import call_command
from django.db.backends.signals import connection_created
from django.test import Client
from health_deep import runner

count = [0]
lock = threading.Lock()
def counter(execute, sql, params, many, context):
    with lock:
        count[0] += 1
    return execute(sql, params, many, context)
def wrap(sender, connection, **kwargs):
    # Sent on every (re)connect of a connection object: count each statement once.
    if counter not in connection.execute_wrappers:
        connection.execute_wrappers.append(counter)
connection_created.connect(wrap)

n = int(sys.argv[1])
client = Client()

def deep():
    for alias in runner.aliases():
        runner.migration_findings(alias)
        runner.schema_findings(alias)
    runner.code_findings()
    runner.smoke_findings()

def migrations_and_schema():
    for alias in runner.aliases():
        runner.migration_findings(alias)
        runner.schema_findings(alias)

def schema_changed_every_time():
    # Worst case: the catalog differs on every probe, so nothing is reused.
    from health_deep.backends.postgresql import catalog as catalog_postgres
    from health_deep.backends.sqlite import catalog as catalog_sqlite
    runner._last_comparison.clear()
    catalog_postgres.shape_text.cache_clear()
    catalog_sqlite.shape.cache_clear()
    migrations_and_schema()

def silent(name, **kw):
    def run():
        try:
            call_command(name, stdout=io.StringIO(), stderr=io.StringIO(), **kw)
        except SystemExit:
            pass
    return run

probes = {
    "Database view": lambda: client.get("/db/?format=json"),
    "/health/ cached": lambda: client.get("/health/ready/?format=json"),
    "deep uncached": deep,
    "migr.+schema": migrations_and_schema,
    "  catalog changed": schema_changed_every_time,
    "migrate --check": silent("migrate", check_unapplied=True, plan=True),
    "sqldiff -a": silent("sqldiff", all_applications=True),
}
out = {}
for name, probe in probes.items():
    if name in ("sqldiff -a",) and n > 20:
        runs = max(5, n // 10)  # sqldiff is slow: fewer runs, same statistics
    else:
        runs = n
    before = rss()
    probe()  # warm: the first call pays for code facts, caches, imports
    added = rss() - before
    times, statements = [], []
    for _ in range(runs):
        count[0] = 0
        started = time.perf_counter()
        probe()
        times.append(time.perf_counter() - started)
        statements.append(count[0])
    times.sort()
    out[name] = {"median": statistics.median(times), "p95": times[max(0, int(runs * .95) - 1)],
                 "statements": statistics.median(statements), "rss": added, "runs": runs}
print(json.dumps(out))
"""


def measure(models: int, backend: str, probes: int) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="hd_compare_") as tmp:
        site = Path(tmp)
        (site / "benchsite.py").write_text(scale.SETTINGS + EXTRA_SETTINGS)
        (site / "benchurls.py").write_text(URLS)
        (site / "genapp" / "migrations").mkdir(parents=True)
        (site / "genapp" / "__init__.py").write_text("")
        (site / "genapp" / "migrations" / "__init__.py").write_text("")
        (site / "genapp" / "models.py").write_text(scale.model_source(models))
        (site / "genapp" / "urls.py").write_text(scale.views_source(models))
        database = f"hd_compare_{models}"
        if backend == "postgresql":
            scale._pg(f'DROP DATABASE IF EXISTS "{database}"', f'CREATE DATABASE "{database}"')
            url = database
        else:
            url = f"sqlite:{site / 'bench.sqlite3'}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "benchsite",
            "BENCH_DB": url,
            "PYTHONPATH": f"{site}{os.pathsep}{ROOT}",
        }
        try:
            scale.run(site, env, "-m", "django", "makemigrations", "genapp", "-v0")
            scale.run(site, env, "-m", "django", "migrate", "-v0")
            scale.run(site, env, "-c", scale.SEED, str(models))
            output = scale.run(site, env, "-c", MEASURE, str(probes))
        finally:
            if backend == "postgresql":
                scale._pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    result: dict[str, dict[str, float]] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("-n", type=int, default=50, help="probes per measurement")
    args = parser.parse_args()
    print(
        f"{'backend':10} {'models':>6} {'probe':16} {'median ms':>10} {'p95 ms':>9} "
        f"{'x Database':>10} {'statements':>10} {'RSS MB':>7}"
    )
    for backend in args.backends:
        for models in args.models:
            result = measure(models, backend, args.n)
            base = result["Database view"]["median"]
            for name, m in result.items():
                print(
                    f"{backend:10} {models:>6} {name:16} {m['median'] * 1000:>10.2f} "
                    f"{m['p95'] * 1000:>9.2f} {m['median'] / base:>10.2f} "
                    f"{m['statements']:>10g} {m['rss']:>7.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
