"""``python -m tests.tenancy.measure RUNS``: what one evaluation of each check costs on the
django-tenants site the environment names, as a probe makes it (the next slice of tenants, the
smoke queries within the deadline), printed as JSON: statements sent, time in the database and
in Python apart. The first evaluation in the process (every state new) and the median of the
next ``RUNS`` (the states known) are reported apart. Used by tests/test_tenants.py and
benchmarks/tenants.py."""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import django


def _measure(evaluate: Callable[[], list[Any]]) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # Each evaluation of a probe runs on connections of its own: so does each one here (a
    # fresh server process opens every table it reads anew, which is part of the cost).
    connection.close()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        findings = evaluate()
        wall = time.perf_counter() - started
    # The guard's own BEGIN, SET LOCAL and ROLLBACK, and the tenancy library's SET search_path
    # on each cursor, are statements too: all are counted.
    database = sum(float(q["time"]) for q in queries.captured_queries)
    return {
        "statements": len(queries.captured_queries),
        "db": database,
        "python": max(0.0, wall - database),
        "wall": wall,
        "ids": sorted({f.id for f in findings}),
    }


def main(runs: int) -> dict[str, Any]:
    django.setup()
    from health_deep import conf, runner

    deadline = conf.get().deadline
    checks: dict[str, Callable[[], list[Any]]] = {
        "migrations": lambda: runner.migration_findings("default"),
        "schema": lambda: runner.schema_findings("default"),
        "smoke": lambda: runner.smoke_findings(deadline=deadline),
    }
    # The code facts a process works out before its first probe (the checks' prepare()).
    runner.migration_facts(include_code=False)
    runner.schema_facts("default")
    runner.smoke_endpoints()
    result: dict[str, Any] = {}
    for name, evaluate in checks.items():
        first = _measure(evaluate)
        steady = [_measure(evaluate) for _ in range(runs)]
        result[name] = {
            "first": first,
            "steady": {
                key: statistics.median(r[key] for r in steady)
                for key in ("statements", "db", "python", "wall")
            }
            | {"ids": steady[-1]["ids"]},
        }
    return result


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
