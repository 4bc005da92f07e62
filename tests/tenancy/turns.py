"""``python -m tests.tenancy.turns TURNS``: the tenant migration and drift findings of
``TURNS`` probe evaluations in one process on the django-tenants site the environment names,
each probe reading one tenant schema (the slices made as small as they go, so that a few
tenants take several turns), printed as JSON: per turn, each finding's id and the schemas it
names."""

from __future__ import annotations

import json
import sys
from typing import Any

import django


def main(turns: int) -> list[dict[str, Any]]:
    django.setup()
    from health_deep import runner
    from health_deep.tenants import migrations, schema

    migrations.SLICE = 1
    schema.TABLE_BUDGET = 1  # a slice of at least one schema, whatever its tables
    seen = []
    for _ in range(turns):
        found = runner.migration_findings("default") + runner.schema_findings("default")
        seen.append({f.id: f.details["schemas"] for f in found if "schemas" in f.details})
    return seen


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
