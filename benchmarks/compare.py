"""health_deep beside the alternatives, per probe, on generated schemas. Prints a table.

    pip install -r benchmarks/requirements.txt        # django-extensions, for sqldiff
    python benchmarks/compare.py                      # 50, 200, 500 models; every backend
    python benchmarks/compare.py --models 500 --backends postgresql -n 30 --markdown

For each size and backend, in one process per cell, side by side:

- ``trivial view`` (``HttpResponse("ok")``, the baseline every ratio is against), and
  django-health-check's view with only its ``Database`` check;
- ``/health/live/`` and ``/health/ready/ served`` (from the probe cache), through the WSGI
  handler (Django's test client) and through the ASGI handler (``AsyncClient``, against the
  trivial view under ASGI);
- ``migrations + schema``: the two checks that do what ``sqldiff`` does, evaluated afresh,
  and ``catalog changed``: the same with the catalog memos emptied first (the worst case);
  ``deep evaluated``: every check afresh, smoke queries included;
- ``migrate --check`` and ``sqldiff -a`` (django-extensions), in process, without start-up;
- the first probe of a fresh process, with ``WARM_UP`` off and on (one second after start).

Wall time per probe (median, p95; the sub-millisecond probes timed in interleaved rounds),
SQL statements per probe (every connection, every thread), and RSS added by the first run.
Requests go through Django's handlers in process, so the numbers are the application's cost
without a network; ``benchmarks/serve.py`` measures real servers.
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
from django.http import HttpResponse
from django.urls import include, path
from health_check.views import HealthCheckView
urlpatterns = [
    path("trivial/", lambda request: HttpResponse("ok")),
    path("db/", HealthCheckView.as_view(checks=["health_check.checks.Database"])),
    path("health/", include("health_deep.urls")),
    path("", include("genapp.urls")),
]
"""

MEASURE = r"""
import asyncio, io, json, statistics, sys, threading, time
import django
def rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024
django.setup()
from django.core.management import call_command
from django.db.backends.signals import connection_created
from django.test import AsyncClient, Client
from health_deep import memo, runner

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
client, aclient = Client(), AsyncClient()

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
    from health_deep.backends.mysql import catalog as mysql
    from health_deep.backends.postgresql import catalog as postgresql
    from health_deep.backends.sqlite import catalog as sqlite
    memo.record("schema:last-comparison").clear()
    postgresql.shape_text.cache_clear()
    sqlite.shape.cache_clear()
    mysql.shape.cache_clear()
    migrations_and_schema()

def silent(name, **kw):
    def run():
        try:
            call_command(name, stdout=io.StringIO(), stderr=io.StringIO(), **kw)
        except SystemExit:
            pass
    return run

def asgi(url):
    async def run():
        return await aclient.get(url)
    return run

probes = {
    "trivial view": lambda: client.get("/trivial/"),
    "Database view": lambda: client.get("/db/?format=json"),
    "/health/live/": lambda: client.get("/health/live/"),
    "/health/ready/ served": lambda: client.get("/health/ready/"),
    "ASGI trivial view": asgi("/trivial/"),
    "ASGI /health/live/": asgi("/health/live/"),
    "ASGI /health/ready/ served": asgi("/health/ready/"),
    "migrations + schema": migrations_and_schema,
    "catalog changed": schema_changed_every_time,
    "deep evaluated": deep,
    "migrate --check": silent("migrate", check_unapplied=True, plan=True),
    "sqldiff -a": silent("sqldiff", all_applications=True),
}

async def timed_async(probe, runs):
    times, statements = [], []
    for _ in range(runs):
        count[0] = 0
        started = time.perf_counter()
        await probe()
        times.append(time.perf_counter() - started)
        statements.append(count[0])
    return times, statements

def summary(times, statements, added):
    times = sorted(times)
    return {"median": statistics.median(times), "p95": times[max(0, int(len(times) * .95) - 1)],
            "statements": statistics.median(statements), "rss": added, "runs": len(times)}

# The sub-millisecond probes are timed in interleaved rounds (each round runs every one of
# them in turn), so a slow spell of the host is shared out instead of landing on one probe.
FAST = [name for name in probes if name.startswith(("/health", "ASGI")) or "view" in name]
ROUNDS = 10
out = {}
fast = {name: ([], []) for name in FAST}

def timed(probe, into):
    count[0] = 0
    started = time.perf_counter()
    probe()
    into[0].append(time.perf_counter() - started)
    into[1].append(count[0])

async def fast_async(rounds, per_round):
    for _ in range(rounds):
        for name in FAST:
            if asyncio.iscoroutinefunction(probes[name]):
                times, statements = await timed_async(probes[name], per_round)
                fast[name][0].extend(times)
                fast[name][1].extend(statements)

added = {}
for name in FAST:  # warm each once: the first call pays for imports and caches
    before = rss()
    if asyncio.iscoroutinefunction(probes[name]):
        asyncio.run(timed_async(probes[name], 3))
    else:
        probes[name]()
    added[name] = rss() - before
for _ in range(ROUNDS):
    for name in FAST:
        if not asyncio.iscoroutinefunction(probes[name]):
            for _ in range(n):
                timed(probes[name], fast[name])
asyncio.run(fast_async(ROUNDS, n))
for name in FAST:
    out[name] = summary(*fast[name], added[name])

for name, probe in probes.items():
    if name in FAST:
        continue
    runs = max(5, n // 10) if name == "sqldiff -a" and n > 20 else n
    before = rss()
    probe()  # warm: the first call pays for code facts, caches, imports
    added_now = rss() - before
    measured = ([], [])
    for _ in range(runs):
        timed(probe, measured)
    out[name] = summary(*measured, added_now)
out = {name: out[name] for name in probes}  # the table's order
print(json.dumps(out))
"""

# The first probe of a fresh process: what a new instance pays before it can answer.
COLD = r"""
import os, sys, time, json
started = time.perf_counter()
import django
django.setup()
from django.test import Client
if sys.argv[1] == "on":
    time.sleep(max(0.0, 1.0 - (time.perf_counter() - started)))  # the probe comes 1 s later
t = time.perf_counter()
response = Client().get("/health/ready/")
print(json.dumps({"first": time.perf_counter() - t, "status": response.status_code}))
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
        database = f"hd_compare_{models}_{os.getpid()}"
        if backend == "postgresql":
            scale._pg(f'DROP DATABASE IF EXISTS "{database}"', f'CREATE DATABASE "{database}"')
            url = database
        elif backend == "mariadb":
            scale._mysql(f"DROP DATABASE IF EXISTS `{database}`", f"CREATE DATABASE `{database}`")
            url = f"mysql:{database}"
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
            result: dict[str, dict[str, float]] = json.loads(output.strip().splitlines()[-1])
            for warm in ("off", "on"):
                (site / "benchwarm.py").write_text(
                    f"from benchsite import *\nHEALTH_DEEP = {{**HEALTH_DEEP, 'WARM_UP': "
                    f"{warm == 'on'}}}\n"
                )
                cold = json.loads(
                    scale.run(
                        site, {**env, "DJANGO_SETTINGS_MODULE": "benchwarm"}, "-c", COLD, warm
                    )
                    .strip()
                    .splitlines()[-1]
                )
                result[f"first probe, warm-up {warm}"] = {
                    "median": cold["first"],
                    "p95": cold["first"],
                    "statements": float("nan"),
                    "rss": 0.0,
                    "runs": 1,
                }
        finally:
            if backend == "postgresql":
                scale._pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            elif backend == "mariadb":
                scale._mysql(f"DROP DATABASE IF EXISTS `{database}`")
    return result


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 100 else f"{ms:.0f}"


def _ratio(m: dict[str, float], result: dict[str, dict[str, float]], name: str) -> float:
    base = "ASGI trivial view" if name.startswith("ASGI") else "trivial view"
    return m["median"] / result[base]["median"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql", "mariadb"])
    parser.add_argument("-n", type=int, default=50, help="probes per measurement")
    parser.add_argument("--markdown", action="store_true", help="one Markdown table")
    parser.add_argument("--json", help="also write every number to this file")
    args = parser.parse_args()
    every: dict[str, dict[str, dict[str, float]]] = {}
    if args.markdown:
        print(machine())
        print()
        print("| backend | models | probe | median ms | p95 ms | x trivial | statements |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
    else:
        print(
            f"{'backend':10} {'models':>6} {'probe':28} {'median ms':>10} {'p95 ms':>9} "
            f"{'x trivial':>10} {'statements':>10} {'RSS MB':>7}"
        )
    for backend in args.backends:
        for models in args.models:
            result = measure(models, backend, args.n)
            every[f"{backend}:{models}"] = result
            for name, m in result.items():
                ratio = _ratio(m, result, name)
                if args.markdown:
                    print(
                        f"| {backend} | {models} | {name} | {_ms(m['median'])} | "
                        f"{_ms(m['p95'])} | {ratio:.2f}x | {m['statements']:g} |",
                        flush=True,
                    )
                else:
                    print(
                        f"{backend:10} {models:>6} {name:28} {m['median'] * 1000:>10.3f} "
                        f"{m['p95'] * 1000:>9.3f} {ratio:>10.2f} "
                        f"{m['statements']:>10g} {m['rss']:>7.1f}",
                        flush=True,
                    )
    if args.json:
        Path(args.json).write_text(json.dumps(every, indent=1))


def machine() -> str:
    """One line naming the machine and versions the numbers come from."""
    import platform

    import django

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    return (
        f"Machine: {cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"Django {django.get_version()}; PostgreSQL {_server('postgresql')}, "
        f"MariaDB {_server('mariadb')}, SQLite {_sqlite()}; servers on the same host."
    )


def _server(vendor: str) -> str:
    try:
        if vendor == "postgresql":
            import psycopg

            with psycopg.connect(**scale.PG, dbname="postgres") as conn:  # type: ignore[arg-type]
                row = conn.execute("SHOW server_version").fetchone()
                return str(row[0]).split()[0] if row else "?"
        import MySQLdb

        conn = MySQLdb.connect(host="127.0.0.1", user="root", passwd="")
        cursor = conn.cursor()
        cursor.execute("SELECT VERSION()")
        version = str(cursor.fetchone()[0]).split("-")[0]
        conn.close()
        return version
    except Exception:
        return "not reachable"


def _sqlite() -> str:
    import sqlite3

    return sqlite3.sqlite_version


if __name__ == "__main__":
    main()
