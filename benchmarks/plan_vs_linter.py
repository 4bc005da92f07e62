"""health_deep's deploy plan beside django-migration-linter, over real migration histories.

    make realworld-venv   # or: the realworld scan's venv, plus django-migration-linter
    .venv-realworld/bin/python benchmarks/plan_vs_linter.py --out plan_vs_linter.jsonl

Every migration of the real-world scan's apps (tests/realworld) is judged against the state
before it, as a rolling deploy would meet it: the release running is everything before it in
``migrate``'s order, the pending migration is that one. health_deep judges it with the
rules of ``health_deep plan`` (no rows: the data preflight needs a production database);
django-migration-linter lints the SQL ``sqlmigrate`` prints for it, on PostgreSQL. One JSON
line per migration, then a summary. Not a test: the verdicts are checked by hand
(docs/plan-vs-linter.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class _Scoped:
    """The models one migration can change: its app's, and those that point at them."""

    def __init__(self, registry: Any, app_label: str) -> None:
        self.registry, self.app_label = registry, app_label

    def get_models(self, include_auto_created: bool = False) -> list[Any]:
        chosen = []
        for model in self.registry.get_models(include_auto_created=include_auto_created):
            related = {
                f.related_model._meta.app_label
                for f in model._meta.local_fields
                if getattr(f, "related_model", None) is not None
                and not isinstance(f.related_model, str)
            }
            if model._meta.app_label == self.app_label or self.app_label in related:
                chosen.append(model)
        return chosen


def _tables(state: Any, app_label: str) -> list[Any]:
    from health_deep.schema import expected

    return expected.expected_tables("default", registry=_Scoped(state.apps, app_label))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="plan_vs_linter.jsonl")
    parser.add_argument("--limit", type=int, default=0, help="stop after N migrations")
    args = parser.parse_args()
    args.out = str(Path(args.out).resolve())
    os.chdir(tempfile.mkdtemp(prefix="hd_linter_"))  # apps write media folders where they run
    database = f"hd_linter_{uuid.uuid4().hex[:8]}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.realworld.settings")
    os.environ["REALWORLD_PG"] = database
    os.environ.setdefault("REALWORLD_SQLITE", "/dev/null")
    import psycopg

    admin = dict(host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True)
    with psycopg.connect(**admin) as conn:  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{database}"')
    try:
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(**admin) as conn:  # type: ignore[arg-type]
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.state import ProjectState
    from django_migration_linter import MigrationLinter
    from django_migration_linter.sql_analyser.analyser import analyse_sql_statements

    from health_deep.rollout import judge
    from health_deep.rollout.releases import Releases, Step, database_operations, full_plan

    loader = MigrationLoader(None, ignore_no_migrations=True)
    linter = MigrationLinter(no_cache=True, no_output=True, database="default")
    order = full_plan(loader.graph)
    if args.limit:
        order = order[: args.limit]
    model_state = ProjectState(real_apps=set(loader.unmigrated_apps))
    db_state = ProjectState(real_apps=set(loader.unmigrated_apps))
    model_state.apps, db_state.apps  # noqa: B018 - render once, then follow incrementally
    counts: Counter[str] = Counter()
    started = time.monotonic()
    with open(args.out, "w") as out:
        for key in order:
            migration = loader.graph.nodes[key]
            app = migration.app_label
            steps = [
                Step(key, index, inner)
                for index, operation in enumerate(migration.operations, start=1)
                for inner in database_operations(operation)
            ]
            old = _tables(model_state, app)
            try:
                before = _tables(db_state, app)
            except Exception:
                before = None
            followed = True
            for operation in migration.operations:
                operation.state_forwards(app, model_state)
                for inner in database_operations(operation):
                    try:
                        inner.state_forwards(app, db_state)
                    except Exception:
                        followed = False
            after = None
            if followed:
                with contextlib.suppress(Exception):
                    after = _tables(db_state, app)
            else:  # the database state lost track: start again from the migration state
                db_state = model_state.clone()
                db_state.apps  # noqa: B018
            exact = before is not None and after is not None
            if not exact:  # as `health_deep plan` does: judge by the migration states
                before, after = old, _tables(model_state, app)
            releases = Releases(model_state, db_state, db_state, [key], steps, True)
            found = judge.judge(
                alias="default",
                vendor="postgresql",
                old=old,
                before=before or [],
                after=after or [],
                blame=releases.blame,
            ) + judge.unknowable(alias="default", steps=steps)
            errors, warnings = _lint(linter, analyse_sql_statements, migration)
            row = {
                "migration": f"{key[0]}.{key[1]}",
                "operations": [s.text for s in steps],
                "health_deep": sorted({f.id.split(".")[1] + " " + f.object for f in found}),
                "health_deep_critical": any(f.critical for f in found),
                "exact": exact,
                "linter_errors": errors,
                "linter_warnings": warnings,
            }
            out.write(json.dumps(row) + "\n")
            counts["migrations"] += 1
            counts["health_deep critical"] += row["health_deep_critical"]
            counts["health_deep warning"] += any(f.id[12] == "W" for f in found)
            counts["linter error"] += bool(errors)
            counts["linter warning"] += bool(warnings) and not errors
            counts["both critical"] += bool(errors) and row["health_deep_critical"]
            counts["linter only"] += bool(errors) and not row["health_deep_critical"]
            counts["health_deep only"] += row["health_deep_critical"] and not errors
    print(json.dumps({**counts, "seconds": round(time.monotonic() - started)}, indent=2))


def _lint(linter: Any, analyse: Any, migration: Any) -> tuple[list[str], list[str]]:
    try:
        sql = linter.get_sql(migration.app_label, migration.name)
    except Exception as exc:  # sqlmigrate cannot render some migrations on an empty database
        return [f"sqlmigrate failed: {type(exc).__name__}"], []
    errors, _ignored, warnings = analyse(linter.sql_analyser_class, sql, [])
    data_errors, _ignored, data_warnings = linter.analyse_data_migration(migration)
    return (
        sorted({e.code for e in errors + data_errors}),
        sorted({w.code for w in warnings + data_warnings}),
    )


if __name__ == "__main__":
    main()
