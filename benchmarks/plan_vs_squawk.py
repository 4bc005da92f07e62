"""health_deep's lock judgement beside squawk's, statement by statement, over real migrations.

    make plan-vs-linter   # the realworld venv, with squawk-cli from PyPI (its own binary)
    .venv-realworld/bin/python benchmarks/plan_vs_squawk.py --out plan_vs_squawk.jsonl

Every migration of the real-world scan's apps (tests/realworld), in ``migrate``'s order, each
against the database state before it: its PostgreSQL SQL collected as ``health_deep plan``
collects it (Django's schema editor, collect-only, no database), each statement given to
squawk (``--reporter json``) and to health_deep's PostgreSQL lock rules. squawk judges the SQL
alone; health_deep weighs a long lock by the table's size, which a scan of empty apps does
not have: a table that existed before the migration is taken as large (what the plan would
say of it in production), one the migration makes as new and empty (what the plan says of it
always). One JSON line per statement squawk or health_deep flags, then counts per squawk rule:
flagged on an existing table, raised by health_deep too, and why not where it is not. Not a
test: docs/plan-vs-linter.md reads the numbers and a hand-checked sample.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# squawk's rules about a lock held while rows are read, rebuilt or indexed, or held at all.
LOCK_RULES = {
    "require-concurrent-index-creation",
    "constraint-missing-not-valid",
    "adding-foreign-key-constraint",
    "adding-not-nullable-field",
    "changing-column-type",
    "adding-field-with-default",
    "adding-serial-primary-key-field",
    "disallowed-unique-constraint",
    "require-concurrent-index-deletion",
}


def squawk(binary: str, statements: list[str]) -> list[set[str]]:
    """squawk's rules, for each statement (one per line of one file)."""
    found: list[set[str]] = [set() for _ in statements]
    if not statements:
        return found
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as sql:
        sql.write("".join(" ".join(s.split()) + ";\n" for s in statements))
    try:
        done = subprocess.run(
            [binary, "--reporter", "json", "--pg-version", "15", sql.name],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.unlink(sql.name)
    for item in json.loads(done.stdout or "[]"):
        if 0 <= item["line"] < len(found):
            found[item["line"]].add(item["rule_name"])
    return found


def why_not(rule: str, sql: str) -> str:
    """Why health_deep raises nothing where squawk raises ``rule`` on an existing table."""
    text = " ".join(sql.upper().split())
    if rule == "changing-column-type":
        return "binary-compatible type change: no rewrite"
    if rule == "adding-foreign-key-constraint" and " ADD COLUMN " in text:
        return "new nullable column with its foreign key: nothing to validate"
    if rule == "require-concurrent-index-deletion":
        return "DROP INDEX: an instant's lock, no work on rows (lock timeout: W414)"
    if rule == "adding-field-with-default":
        return "constant default: metadata only since PostgreSQL 11"
    if rule == "adding-not-nullable-field" and " ADD COLUMN " in text:
        return "new column: NOT NULL with a default checks nothing"
    return "not explained"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="plan_vs_squawk.jsonl")
    parser.add_argument("--limit", type=int, default=0, help="stop after N migrations")
    args = parser.parse_args()
    args.out = str(Path(args.out).resolve())
    binary = str(Path(sys.executable).with_name("squawk"))
    os.chdir(tempfile.mkdtemp(prefix="hd_squawk_"))  # apps write media folders where they run
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.realworld.settings")
    os.environ.setdefault("REALWORLD_PG", "hd_squawk_unused")  # never connected to
    os.environ.setdefault("REALWORLD_SQLITE", "/dev/null")
    import django

    django.setup()
    run(args, binary)


def run(args: argparse.Namespace, binary: str) -> None:
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.state import ProjectState

    from health_deep.backends.postgresql import locks as pg_locks
    from health_deep.rollout import statements
    from health_deep.rollout.releases import Releases, Step, database_operations, full_plan

    loader = MigrationLoader(None, ignore_no_migrations=True)
    order = full_plan(loader.graph)[: args.limit or None]
    # The state the migrations leave, and the one their database operations leave (as
    # health_deep plan follows them); the second restarts from the first when it loses track.
    model_state = ProjectState(real_apps=set(loader.unmigrated_apps))
    state = model_state.clone()
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    started = time.monotonic()
    with open(args.out, "w") as out:
        for key in order:
            migration = loader.graph.nodes[key]
            steps = [
                Step(key, index, inner)
                for index, operation in enumerate(migration.operations, start=1)
                for inner in database_operations(operation)
            ]
            existing = {m._meta.db_table for m in state.apps.get_models(include_auto_created=True)}
            releases = Releases(state, state, state, [key], steps, True, migrations=[migration])
            try:
                collected = statements.collect(releases, alias="default", offline=True)
            except Exception:  # a state the schema editor cannot follow: as sqlmigrate fails
                collected = []
            flat = [(c, sql) for c in collected for sql in c.statements]
            rules = squawk(binary, [sql for _, sql in flat])
            for (c, sql), flagged in zip(flat, rules, strict=True):
                effects = [
                    e
                    for e in pg_locks.effects(sql, column_type=c.column_type)
                    if e.table in existing
                ]
                mine = sorted(flagged & LOCK_RULES)
                on_existing = bool(mine) and _table(sql) in existing
                for rule in mine:
                    counts[rule]["squawk"] += 1
                    if on_existing:
                        counts[rule]["on an existing table"] += 1
                        if effects:
                            counts[rule]["health_deep too"] += 1
                        else:
                            counts[rule][why_not(rule, sql)] += 1
                if effects and not mine:
                    counts["(health_deep only)"][", ".join(e.statement for e in effects)] += 1
                if mine or effects:
                    out.write(
                        json.dumps(
                            {
                                "migration": f"{key[0]}.{key[1]}",
                                "operation": c.step.text,
                                "sql": sql[:400],
                                "squawk": mine,
                                "existing_table": _table(sql) in existing,
                                "health_deep": [
                                    {"table": e.table, "lock": e.lock, "work": e.work}
                                    for e in effects
                                ],
                            }
                        )
                        + "\n"
                    )
            followed = True
            for operation in migration.operations:
                operation.state_forwards(key[0], model_state)
                for inner in database_operations(operation):
                    try:
                        inner.state_forwards(key[0], state)
                    except Exception:
                        followed = False
            if not followed:  # the database state lost track: as plan_vs_linter does
                state = model_state.clone()
    summary = {rule: dict(c) for rule, c in sorted(counts.items())}
    print(
        json.dumps(
            {
                "migrations": len(order),
                "seconds": round(time.monotonic() - started),
                "rules": summary,
            },
            indent=2,
        )
    )


def _table(sql: str) -> str:
    """The table a statement works on (the one after ON or ALTER TABLE), unquoted."""
    words = sql.replace("(", " ( ").split()
    upper = [w.upper() for w in words]
    for marker in ("TABLE", "ON"):
        if marker in upper:
            at = upper.index(marker) + 1
            while at < len(words) and upper[at] in ("ONLY", "IF", "EXISTS", "CONCURRENTLY"):
                at += 1
            if at < len(words):
                return words[at].split(".")[-1].strip('"')
    return ""


if __name__ == "__main__":
    main()
