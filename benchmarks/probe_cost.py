"""Per-probe cost of health_deep's checks: SQL statements and wall time. Not a test.

    python benchmarks/probe_cost.py                       # SQLite file in a temp folder
    python benchmarks/probe_cost.py --database-url postgres://postgres@127.0.0.1:5432/bench

It migrates a copy of the example project, then calls each check the way a probe does,
N times, and prints a table: statements per probe (as Django's query log counts them, SETs
included) and the median and p95 wall time, first call (cold: loads the migration graph and
fingerprints) apart from the warm ones.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


SEED = """
from integrations.models import Integration, Webhook
i = Integration.objects.create(name="billing", base_url="https://billing.example")
Webhook.objects.create(integration=i, event="paid", target="https://hooks.example/paid")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("-n", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        shutil.copytree(
            ROOT / "example_project",
            site,
            ignore=shutil.ignore_patterns("*.sqlite3", "__pycache__"),
        )
        os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{site / 'bench.sqlite3'}"
        os.environ["DJANGO_SETTINGS_MODULE"] = "example.settings"
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=site, check=True)
        subprocess.run([sys.executable, "manage.py", "shell", "-c", SEED], cwd=site, check=True)
        sys.path.insert(0, str(site))
        measure(args.n)


def measure(n: int) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from health_deep import runner

    rows = []
    for name, probe in [
        ("migrations (one alias)", lambda: runner.migration_findings("default")),
        ("missing migrations (code)", runner.code_findings),
        ("schema (one alias)", lambda: runner.schema_findings("default")),
        ("smoke (all endpoints)", runner.smoke_findings),
    ]:
        started = time.perf_counter()
        probe()
        cold = time.perf_counter() - started
        times, statements = [], []
        for _ in range(n):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                findings = probe()
                times.append(time.perf_counter() - started)
            statements.append(len(queries))
        assert not [f for f in findings if f.critical], findings
        times.sort()
        rows.append(
            (
                name,
                max(statements),
                cold,
                statistics.median(times),
                times[int(len(times) * 0.95) - 1],
            )
        )
    print(f"backend: {connection.vendor}, {n} probes each")
    print(f"{'check':28} {'statements':>10} {'cold ms':>9} {'median ms':>10} {'p95 ms':>8}")
    for name, count, cold, median, p95 in rows:
        print(
            f"{name:28} {count:>10} {cold * 1000:>9.2f} {median * 1000:>10.3f} {p95 * 1000:>8.3f}"
        )


if __name__ == "__main__":
    main()
