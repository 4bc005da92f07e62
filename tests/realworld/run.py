"""Zero findings on popular third-party apps: migrate them, then run every check.

    pip install -r tests/realworld/requirements.txt
    python tests/realworld/run.py                 # SQLite, PostgreSQL and MariaDB
    python tests/realworld/run.py --backends sqlite

Each backend is tried with DEFAULT_AUTO_FIELD as BigAutoField and as AutoField (it changes
what migrations create for auto-created many-to-many tables). Exits 1 on any finding, so a
false alarm on a healthy database shows up as a failure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# True findings that are expected, each with why; only info-level ones may be listed here.
EXPECTED = {
    ("mariadb", "health_deep.I222", f"wagtailsearch_indexentry.{name}"):
        "Wagtail's migration adds MySQL FULLTEXT indexes with RunSQL; no model declares them"
    for name in ("fulltext_body", "fulltext_title", "fulltext_title_body",
                 "fulltext_autocomplete")
}


def scan(backend: str, auto_field: str) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="hd_realworld_") as tmp:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.realworld.settings",
               "DEFAULT_AUTO_FIELD": auto_field, "PYTHONPATH": str(ROOT),
               "REALWORLD_SQLITE": str(Path(tmp) / "db.sqlite3")}
        database = f"hd_realworld_{uuid.uuid4().hex[:8]}"
        if backend == "postgresql":
            env["REALWORLD_PG"] = database
            _pg(f'CREATE DATABASE "{database}"')
        elif backend == "mariadb":
            env["REALWORLD_MYSQL"] = database
            _mysql(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
        try:
            django = [sys.executable, "-m", "django"]
            subprocess.run([*django, "migrate", "-v0"], env=env, check=True,
                           capture_output=True, text=True)
            result = subprocess.run([*django, "health_deep", "--format", "json"], env=env,
                                    capture_output=True, text=True)
            report = json.loads(result.stdout)
        finally:
            if backend == "postgresql":
                _pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            elif backend == "mariadb":
                _mysql(f"DROP DATABASE IF EXISTS `{database}`")
    return [f"{f['id']} {f['object']}: {f['message']}" for f in report["findings"]
            if (backend, f["id"], f["object"]) not in EXPECTED]


def _pg(statement: str) -> None:
    import psycopg

    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(statement)


def _mysql(statement: str) -> None:
    import MySQLdb

    conn = MySQLdb.connect(host="127.0.0.1", user="root", passwd="")
    try:
        conn.cursor().execute(statement)
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql", "mariadb"])
    args = parser.parse_args()
    passed = failed = 0
    for backend in args.backends:
        for auto_field in ("django.db.models.BigAutoField", "django.db.models.AutoField"):
            findings = scan(backend, auto_field)
            print(f"{backend:10} {auto_field.rsplit('.', 1)[-1]:12} findings: {len(findings)}")
            for line in findings:
                print(f"    {line}")
            failed += bool(findings)
            passed += not findings
    print(f"realworld: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
