"""The tenant check's cost at 10, 100 and 1,000 tenant schemas (django-tenants on PostgreSQL).
Prints a table; not a test.

    python benchmarks/tenants.py                 # 10 100 1000
    python benchmarks/tenants.py --schemas 10 1000 --runs 5 --markdown

The site is ``tests/settings_tenants.py`` (a shared app, a tenant app). One tenant is made by
django-tenants itself; the others are copies of its schema made with SQL (each with its
``django_migrations`` rows and its table), so 1,000 schemas take seconds, not an hour of
``migrate``. Two of them are broken (one behind by a migration, one with no schema), as a site
after a failed ``migrate_schemas``. For each size: the statements one evaluation of the
migration check sends, its time in the database and in Python apart (median of the runs).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MEASURE = """
import json, sys, time
import django
django.setup()
from django.db import connection
from django.test.utils import CaptureQueriesContext
from health_deep import runner
runner.migration_findings("default")  # the code facts, once per process
runs = []
for _ in range(int(sys.argv[1])):
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        findings = runner.migration_findings("default")
        wall = time.perf_counter() - started
    database = sum(float(q["time"]) for q in queries.captured_queries)
    runs.append({"statements": len(queries.captured_queries), "wall": wall, "db": database,
                 "ids": sorted(f.id for f in findings)})
print(json.dumps(runs))
"""


def _psql(database: str, sql: str) -> None:
    subprocess.run(
        ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-c", sql],
        check=True,
        capture_output=True,
    )


def measure(schemas: int, runs: int) -> dict[str, object]:
    database = f"hd_bench_tenants_{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings_tenants",
        "HEALTH_DEEP_TENANTS_DB": database,
        "PYTHONWARNINGS": "ignore",
    }
    _psql("postgres", f'CREATE DATABASE "{database}"')
    try:
        for command in (
            [sys.executable, "-m", "django", "migrate_schemas", "--shared", "-v0"],
            [sys.executable, "-m", "tests.tenancy.make_tenants", "1"],
        ):
            subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True)
        for first in range(2, schemas + 1, 100):  # a transaction per 100: lock table room
            last = min(schemas, first + 99)
            _psql(
                database,
                f"""
                DO $$ BEGIN FOR n IN {first}..{last} LOOP
                  EXECUTE format('CREATE SCHEMA t%s', n);
                  EXECUTE format('CREATE TABLE t%s.django_migrations
                                  (LIKE t1.django_migrations INCLUDING ALL)', n);
                  EXECUTE format('INSERT INTO t%s.django_migrations
                                  SELECT * FROM t1.django_migrations', n);
                  EXECUTE format('CREATE TABLE t%s.notes_note
                                  (LIKE t1.notes_note INCLUDING ALL)', n);
                  INSERT INTO customers_client (schema_name, name)
                  VALUES ('t' || n, 'tenant ' || n);
                END LOOP; END $$;
                """,
            )
        _psql(
            database,
            "DELETE FROM t2.django_migrations WHERE app = 'notes'; "
            "INSERT INTO customers_client (schema_name, name) VALUES ('gone', 'no schema');",
        )
        out = subprocess.run(
            [sys.executable, "-c", MEASURE, str(runs)],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        _psql("postgres", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    found = json.loads(out.strip().splitlines()[-1])
    return {
        "schemas": schemas + 1,
        "statements": statistics.median(r["statements"] for r in found),
        "db_ms": 1000 * statistics.median(r["db"] for r in found),
        "python_ms": 1000 * statistics.median(r["wall"] - r["db"] for r in found),
        "ids": found[0]["ids"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schemas", nargs="+", type=int, default=[10, 100, 1000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    rows = [measure(n, args.runs) for n in args.schemas]
    if args.markdown:
        print("| tenant schemas | statements | database | Python | findings |")
        print("| ---: | ---: | ---: | ---: | --- |")
    for row in rows:
        ids = ", ".join(str(i).removeprefix("health_deep.") for i in row["ids"])  # type: ignore[attr-defined]
        if args.markdown:
            print(
                f"| {row['schemas']} | {row['statements']:g} | {row['db_ms']:.1f} ms | "
                f"{row['python_ms']:.1f} ms | {ids} |"
            )
        else:
            print(
                f"{row['schemas']:6} schemas  {row['statements']:g} statements  "
                f"database {row['db_ms']:.1f} ms  Python {row['python_ms']:.1f} ms  {ids}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
