"""How the probe's cost grows with the number of models. Prints a table; not a test.

    python benchmarks/scale.py                      # 50, 200, 500 models; every backend
    python benchmarks/scale.py --models 500 --backends sqlite -n 50

For each size it writes a throwaway project with N generated models (several field types, a
foreign key, an index each), their migration and a ListView endpoint each (joining the
parent), migrates it, adds one row per table, then probes each check the way
/health/ does: statements per probe as Django's query log counts them (SET/PRAGMA/BEGIN
included), the cold call (first probe in a process: loads the migration graph, fingerprints,
expected schema), and the median and p95 of warm probes. Findings must be zero.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = dict(host="127.0.0.1", port=5432, user="postgres")

SETTINGS = """
import os
SECRET_KEY = "bench"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "health_check",
                  "health_deep", "genapp"]
ROOT_URLCONF = "genapp.urls"
# Wide enough for every smoke query to run in one probe, so its full cost is measured.
HEALTH_DEEP = {"SMOKE_DEADLINE": 30, "STATEMENT_TIMEOUT": 5}
"""

# The database from BENCH_DB ("sqlite:<path>", "mysql:<name>", or a PostgreSQL name).
DATABASES_SETTINGS = """
import os
url = os.environ["BENCH_DB"]
if url.startswith("sqlite:"):
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": url[7:]}}
elif url.startswith("mysql:"):
    DATABASES = {"default": {"ENGINE": "django.db.backends.mysql", "NAME": url[6:],
                             "HOST": "127.0.0.1", "USER": "root",
                             "OPTIONS": {"charset": "utf8mb4"}}}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": url,
                             "HOST": "127.0.0.1", "USER": "postgres"}}
"""
SETTINGS += DATABASES_SETTINGS

SEED = """
import sys, django
django.setup()
from genapp import models
previous = None
for i in range(int(sys.argv[1])):
    model = getattr(models, f"M{i}")
    linked = hasattr(model, "parent_id") and previous is not None
    previous = model.objects.create(name=f"row {i}", **({"parent": previous} if linked else {}))
"""

MEASURE = """
import json, statistics, sys, time
import django
django.setup()
from django.db import connection
from django.test.utils import CaptureQueriesContext
from health_deep import runner
n = int(sys.argv[1])
out = {}
for name, probe in [("migrations", lambda: runner.migration_findings("default")),
                    ("schema", lambda: runner.schema_findings("default")),
                    ("smoke", runner.smoke_findings)]:
    started = time.perf_counter()
    findings = probe()
    cold = time.perf_counter() - started
    times, statements = [], []
    for _ in range(n):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            findings = probe()
            times.append(time.perf_counter() - started)
        statements.append(len(queries))
    times.sort()
    out[name] = {"statements": max(statements), "cold": cold,
                 "median": statistics.median(times), "p95": times[max(0, int(n * 0.95) - 1)],
                 "findings": [f.id + " " + f.object for f in findings
                              if not f.id.startswith("health_deep.I")]}
print(json.dumps(out))
"""


def _has_parent(i: int, chain: int | None) -> bool:
    return i % chain != 0 if chain else i != 0


def model_source(count: int, *, chain: int | None = None) -> str:
    """``count`` models, each with a foreign key to the one before it; ``chain`` cuts the
    chain every that many models (migrate re-renders every model a chain links, so one chain
    through 500 models makes ``migrate`` take minutes)."""
    lines = ["from django.db import models", ""]
    for i in range(count):
        parent = (
            f'    parent = models.ForeignKey("M{i - 1}", null=True, on_delete=models.SET_NULL)\n'
            if _has_parent(i, chain)
            else ""
        )
        lines.append(
            textwrap.dedent(f"""
            class M{i}(models.Model):
                name = models.CharField(max_length=100, db_index=True)
                count = models.IntegerField(default=0)
                created = models.DateTimeField(auto_now_add=True)
                data = models.JSONField(default=dict)
                price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
                active = models.BooleanField(default=True)
            """).rstrip()
            + "\n"
            + parent
            + textwrap.indent(
                textwrap.dedent(f"""
                class Meta:
                    indexes = [models.Index(fields=["count", "created"], name="m{i}_cc_idx")]
            """),
                "    ",
            )
        )
    return "\n".join(lines)


def views_source(count: int, *, chain: int | None = None) -> str:
    lines = [
        "from django.urls import path",
        "from django.views.generic import ListView",
        "from genapp import models",
        "",
        "urlpatterns = [",
    ]
    for i in range(count):
        queryset = (
            f"models.M{i}.objects.select_related('parent')"
            if _has_parent(i, chain)
            else f"models.M{i}.objects.all()"
        )
        lines.append(f"    path('m{i}/', ListView.as_view(queryset={queryset}), name='m{i}'),")
    return "\n".join([*lines, "]", ""])


def run(site: Path, env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, *args], cwd=site, env=env, capture_output=True, text=True, timeout=1800
    )
    if result.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def measure(models: int, backend: str, probes: int) -> dict[str, dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="hd_scale_") as tmp:
        site = Path(tmp)
        (site / "benchsite.py").write_text(SETTINGS)
        (site / "genapp" / "migrations").mkdir(parents=True)
        (site / "genapp" / "__init__.py").write_text("")
        (site / "genapp" / "migrations" / "__init__.py").write_text("")
        (site / "genapp" / "models.py").write_text(model_source(models))
        (site / "genapp" / "urls.py").write_text(views_source(models))
        database = f"hd_scale_{models}"
        if backend == "postgresql":
            _pg(f'DROP DATABASE IF EXISTS "{database}"', f'CREATE DATABASE "{database}"')
            url = database
        elif backend == "mariadb":
            _mysql(f"DROP DATABASE IF EXISTS `{database}`", f"CREATE DATABASE `{database}`")
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
            admin = ["-m", "django"]
            run(site, env, *admin, "makemigrations", "genapp", "-v0")
            run(site, env, *admin, "migrate", "-v0")
            run(site, env, "-c", SEED, str(models))
            result: dict[str, dict[str, object]] = json.loads(
                run(site, env, "-c", MEASURE, str(probes)).strip().splitlines()[-1]
            )
        finally:
            if backend == "postgresql":
                _pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            elif backend == "mariadb":
                _mysql(f"DROP DATABASE IF EXISTS `{database}`")
    return result


def _pg(*statements: str) -> None:
    import psycopg

    with psycopg.connect(**PG, dbname="postgres", autocommit=True) as conn:  # type: ignore[arg-type]
        for statement in statements:
            conn.execute(statement)


def _mysql(*statements: str) -> None:
    import MySQLdb

    conn = MySQLdb.connect(host="127.0.0.1", user="root", passwd="")
    try:
        for statement in statements:
            conn.cursor().execute(statement)
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql", "mariadb"])
    parser.add_argument("-n", type=int, default=100, help="warm probes per measurement")
    args = parser.parse_args()
    print(
        f"{'backend':11} {'models':>6} {'check':11} {'statements':>10} {'cold ms':>9} "
        f"{'median ms':>9} {'p95 ms':>8} findings"
    )
    for backend in args.backends:
        for models in args.models:
            for check, m in measure(models, backend, args.n).items():
                print(
                    f"{backend:11} {models:>6} {check:11} {m['statements']:>10} "
                    f"{float(m['cold']) * 1000:>9.1f} {float(m['median']) * 1000:>9.2f} "
                    f"{float(m['p95']) * 1000:>8.2f} {len(m['findings'])}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
