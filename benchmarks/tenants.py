"""What a probe's evaluation of each check costs on a django-tenants site at 10, 100 and 1,000
tenant schemas of 20 tables each (PostgreSQL). Prints a table; not a test.

    python benchmarks/tenants.py                 # 10 100 1000
    python benchmarks/tenants.py --schemas 10 1000 --runs 5 --markdown

The site is ``tests/settings_tenants.py``: a shared app, and ``notes`` + the 19-table
``ledger`` in each tenant's schema. Three tenants are made by django-tenants itself; the
others are copies of the first one's schema made with SQL (``tests.tenancy.make_tenants.clone``),
so 1,000 schemas take minutes, not hours of ``migrate_schemas``. One tenant is left behind by a
migration and one has a column dropped, as after a failed ``migrate_schemas`` and a hand edit.

For each size and check (``tests.tenancy.measure``): the statements one evaluation sends (the
guard's BEGIN/SET/ROLLBACK and the library's ``SET search_path`` included), its time in the
database and in Python apart; the first evaluation in a process (every state new) and the
median of the next ones (the states known), and what it found.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.tenancy.helpers import psql  # noqa: E402
from tests.tenancy.make_tenants import clone  # noqa: E402

MADE = 3  # tenants django-tenants makes and migrates itself
CHECKS = ("migrations", "schema", "smoke")


def measure(schemas: int, runs: int) -> dict[str, object]:
    database = f"hd_bench_tenants_{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings_tenants",
        "HEALTH_DEEP_TENANTS_DB": database,
        "PYTHONWARNINGS": "ignore",
    }
    psql("postgres", f'CREATE DATABASE "{database}"')
    try:
        for command in (
            [sys.executable, "-m", "django", "migrate_schemas", "--shared", "-v0"],
            [sys.executable, "-m", "tests.tenancy.make_tenants", str(MADE)],
        ):
            subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True)
        if schemas > MADE:
            clone(database, MADE + 1, schemas)
        psql(
            database,
            "DELETE FROM t2.django_migrations WHERE app = 'notes'",
            "ALTER TABLE t3.notes_note DROP COLUMN body",
        )
        out = subprocess.run(
            [sys.executable, "-m", "tests.tenancy.measure", str(runs)],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        psql("postgres", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return {"schemas": schemas, "checks": json.loads(out.strip().splitlines()[-1])}


def _ids(ids: list[str]) -> str:
    return ", ".join(i.removeprefix("health_deep.") for i in ids) or "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schemas", nargs="+", type=int, default=[10, 100, 1000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    rows = [measure(n, args.runs) for n in args.schemas]
    if args.markdown:
        print("| tenant schemas | check | evaluation | statements | database | Python | found |")
        print("| ---: | --- | --- | ---: | ---: | ---: | --- |")
    for row in rows:
        for check in CHECKS:
            for when in ("first", "steady"):
                m = row["checks"][check][when]  # type: ignore[index]
                cells = (
                    f"{row['schemas']}",
                    check,
                    when,
                    f"{m['statements']:g}",
                    f"{1000 * m['db']:.1f} ms",
                    f"{1000 * m['python']:.1f} ms",
                    _ids(m["ids"]),
                )
                if args.markdown:
                    print("| " + " | ".join(cells) + " |")
                else:
                    print("  ".join(f"{c:>10}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
