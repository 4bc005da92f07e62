"""The deploy plan's lock judgement: which statements hold which lock for how long (checked
against what PostgreSQL's ``pg_locks`` and MariaDB's ``LOCK=NONE`` say), weighed by the real
size of the table, on a site whose tables hold 10 rows and 5 million."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from health_deep import conf
from health_deep.backends.base.locks import Lock, Size
from health_deep.backends.mysql import locks as mysql_locks
from health_deep.backends.postgresql import locks as pg_locks
from health_deep.rollout import locks
from health_deep.rollout.statements import split
from tests.sites import BACKEND, Site

TYPES = {("r", "label"): "varchar(20)", ("r", "value"): "integer", ("r", "price"): "numeric(10, 2)"}


def column_type(table: str, column: str) -> str | None:
    return TYPES.get((table, column))


# statement -> (lock, work) or None for no long lock. What PostgreSQL does: see the test
# against a real server below.
PG_CASES: dict[str, tuple[str, str] | None] = {
    'CREATE INDEX "r_value" ON "r" ("value")': ("SHARE", "index build"),
    'CREATE UNIQUE INDEX "r_label" ON "r" ("label")': ("SHARE", "index build"),
    'CREATE INDEX CONCURRENTLY "r_value" ON "r" ("value")': None,
    'ALTER TABLE "r" ADD CONSTRAINT "r_v" CHECK ("value" >= 0)': (
        "ACCESS EXCLUSIVE",
        "validation scan",
    ),
    'ALTER TABLE "r" ADD CONSTRAINT "r_v" CHECK ("value" >= 0) NOT VALID': None,
    'ALTER TABLE "r" ADD CONSTRAINT "r_l" UNIQUE ("label")': ("ACCESS EXCLUSIVE", "index build"),
    'ALTER TABLE "r" ADD CONSTRAINT "r_s" FOREIGN KEY ("s_id") REFERENCES "s" ("id") '
    "DEFERRABLE INITIALLY DEFERRED": ("SHARE ROW EXCLUSIVE", "validation scan"),
    'ALTER TABLE "r" ADD CONSTRAINT "r_s" FOREIGN KEY ("s_id") REFERENCES "s" ("id") NOT VALID': (
        None
    ),
    'ALTER TABLE "r" ALTER COLUMN "value" TYPE bigint USING "value"::bigint': (
        "ACCESS EXCLUSIVE",
        "table rewrite",
    ),
    'ALTER TABLE "r" ALTER COLUMN "label" TYPE varchar(40) USING "label"::varchar(40)': None,
    'ALTER TABLE "r" ALTER COLUMN "label" TYPE text USING "label"::text': None,
    'ALTER TABLE "r" ALTER COLUMN "label" TYPE varchar(10) USING "label"::varchar(10)': (
        "ACCESS EXCLUSIVE",
        "table rewrite",
    ),
    'ALTER TABLE "r" ALTER COLUMN "price" TYPE numeric(12, 2)': None,
    'ALTER TABLE "r" ALTER COLUMN "s_id" SET NOT NULL': ("ACCESS EXCLUSIVE", "validation scan"),
    'ALTER TABLE "r" ALTER COLUMN "value" DROP NOT NULL': None,
    'ALTER TABLE "r" ADD COLUMN "n" integer DEFAULT 0 NOT NULL': None,
    'ALTER TABLE "r" ADD COLUMN "u" uuid DEFAULT (gen_random_uuid()) NOT NULL': (
        "ACCESS EXCLUSIVE",
        "table rewrite",
    ),
    'ALTER TABLE "r" ADD COLUMN "t_id" bigint NULL CONSTRAINT "r_t" REFERENCES "s"("id") '
    "DEFERRABLE INITIALLY DEFERRED": None,
    'ALTER TABLE "r" ADD COLUMN "code" varchar(255) NULL UNIQUE': (
        "ACCESS EXCLUSIVE",
        "index build",
    ),
    'ALTER TABLE "r" ADD COLUMN "n" integer DEFAULT 0 NOT NULL CHECK ("n" >= 0)': (
        "ACCESS EXCLUSIVE",
        "validation scan",
    ),
    'ALTER TABLE "r" ADD COLUMN "unique_check" integer NULL': None,
    'ALTER TABLE "r" DROP COLUMN "label" CASCADE': None,
}


@pytest.mark.parametrize(("sql", "expected"), PG_CASES.items())
def test_postgresql_statements_long_locks(sql: str, expected: tuple[str, str] | None) -> None:
    found = pg_locks.effects(sql, column_type=column_type)

    assert [(f.lock, f.work) for f in found] == ([expected] if expected else [])
    assert all(f.table == "r" for f in found)


def test_a_foreign_key_locks_its_target_as_long() -> None:
    [lock] = pg_locks.effects(
        'ALTER TABLE "r" ADD CONSTRAINT "f" FOREIGN KEY ("s_id") REFERENCES "public"."s" ("id")',
        column_type=column_type,
    )

    assert lock.also == ("s",) and lock.blocks == "writes"


@pytest.mark.parametrize(
    ("old", "new", "same"),
    [
        ("varchar(20)", "varchar(40)", True),
        ("varchar(20)", "varchar(20)", True),
        ("varchar(20)", "text", True),
        ("varchar(20)", "varchar", True),
        ("varchar(20)", "varchar(10)", False),
        ("numeric(10, 2)", "numeric(12, 2)", True),
        ("numeric(10, 2)", "numeric(12, 3)", False),
        ("integer", "bigint", False),
        (None, "varchar(40)", False),  # not known: taken as a rewrite
    ],
)
def test_postgresql_binary_compatible_type_changes(old: str | None, new: str, same: bool) -> None:
    assert pg_locks.binary_compatible(old, new) is same


MYSQL_CASES: dict[str, str | None] = {  # statement -> the work done under a write block
    "CREATE INDEX `r_value` ON `r` (`value`)": None,
    "CREATE FULLTEXT INDEX `r_label` ON `r` (`label`)": "index build",
    "ALTER TABLE `r` ADD CONSTRAINT `r_v` CHECK (`value` >= 0)": "table rewrite",
    "ALTER TABLE `r` ADD CONSTRAINT `r_l` UNIQUE (`label`)": None,
    "ALTER TABLE `r` ADD CONSTRAINT `r_s` FOREIGN KEY (`s_id`) REFERENCES `s` (`id`)": (
        "table rewrite"
    ),
    "ALTER TABLE `r` ADD COLUMN `t_id` bigint NULL , ADD CONSTRAINT `r_t` FOREIGN KEY (`t_id`) "
    "REFERENCES `s` (`id`)": "table rewrite",
    "ALTER TABLE `r` MODIFY `value` bigint NOT NULL": "table rewrite",
    "ALTER TABLE `r` MODIFY `label` varchar(40) NOT NULL": None,
    "ALTER TABLE `r` MODIFY `label` varchar(10) NOT NULL": "table rewrite",
    "ALTER TABLE `r` MODIFY `label` longtext NOT NULL": "table rewrite",
    "ALTER TABLE `r` MODIFY `value` integer NULL": None,
    "ALTER TABLE `r` ADD COLUMN `n` integer DEFAULT 0 NOT NULL": None,
    "ALTER TABLE `r` ADD COLUMN `code` varchar(255) NULL UNIQUE": None,
    "ALTER TABLE `r` ADD COLUMN `p` integer DEFAULT 0 NOT NULL CHECK (`p` >= 0)": None,
    "ALTER TABLE `r` DROP COLUMN `label`": None,
}


@pytest.mark.parametrize(("sql", "expected"), MYSQL_CASES.items())
def test_mysql_statements_long_locks(sql: str, expected: str | None) -> None:
    found = mysql_locks.effects(sql, column_type=column_type)

    assert [f.work for f in found] == ([expected] if expected else [])
    assert all(f.table == "r" and f.blocks == "writes" for f in found)


def test_statements_are_split_outside_quotes_and_bodies() -> None:
    sql = (
        "CREATE INDEX a ON b (c); ALTER TABLE \"x;y\" ADD CHECK (z <> ';');"
        "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql"
    )

    assert len(split(sql)) == 3


def held(table: str = "big", **kwargs: Any) -> locks.Held:
    lock = Lock(table, "SHARE", "writes", "index build", "CREATE INDEX", "build it concurrently")
    step = type(
        "Step",
        (),
        {"migration": ("app", "0002"), "where": "app.0002 operation 1", "text": "Create index"},
    )()
    return locks.Held(step, (lock,), ("CREATE INDEX ...",))


THRESHOLDS = locks.Thresholds(warn_rows=1_000_000, critical_rows=10_000_000)


def judged(rows: int | None, *, limit: float | None = None, new: set[str] | None = None) -> list:
    sizes = None if rows is None else {"big": Size(rows, 8192, "test")}
    return locks.judge(
        alias="default",
        held=[held()],
        sizes=sizes,
        new_tables=new or set(),
        thresholds=THRESHOLDS,
        lock_limit=limit,
        vendor="postgresql",
    )


def test_a_long_lock_on_a_small_table_is_not_reported() -> None:
    assert judged(999_999) == []


def test_a_long_lock_on_a_large_table_is_W413_and_no_lock_timeout_W414() -> None:
    found = judged(5_000_000)

    assert [f.id for f in found] == ["health_deep.W413", "health_deep.W414"]
    assert "about 5,000,000 rows" in found[0].message and "SHARE" in found[0].message
    assert found[0].hint == "build it concurrently"


def test_a_long_lock_on_a_very_large_table_is_E412() -> None:
    assert [f.id for f in judged(10_000_000, limit=5.0)] == ["health_deep.E412"]


def test_sizes_unknown_are_W415_and_tables_the_plan_makes_are_left_out() -> None:
    assert [f.id for f in judged(None)] == ["health_deep.W415"]
    assert judged(None, new={"big"}) == []


def test_critical_rows_below_warning_rows_is_refused() -> None:
    with override_settings(HEALTH_DEEP={"PLAN_WARN_ROWS": 100, "PLAN_CRITICAL_ROWS": 10}):
        assert conf.problems() == [
            "HEALTH_DEEP['PLAN_CRITICAL_ROWS'] must be at least PLAN_WARN_ROWS"
        ]


# What the servers themselves say.


@pytest.fixture
def scratch_postgres() -> Iterator[Any]:
    import psycopg

    name = f"hd_locks_{uuid.uuid4().hex[:8]}"
    admin = dict(host="127.0.0.1", port=5432, user="postgres", autocommit=True)
    with psycopg.connect(dbname="postgres", **admin) as conn:  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(dbname=name, host="127.0.0.1", port=5432, user="postgres") as conn:
            conn.execute("CREATE TABLE s (id bigint PRIMARY KEY)")
            conn.execute(
                "CREATE TABLE r (id bigint PRIMARY KEY, value integer NOT NULL, "
                "label varchar(20) NOT NULL, price numeric(10, 2), s_id bigint NULL)"
            )
            conn.execute("INSERT INTO s VALUES (1)")
            conn.execute("INSERT INTO r VALUES (1, 1, 'a', 1, 1), (2, 2, 'b', 2, 1)")
            conn.commit()
            yield conn
    finally:
        with psycopg.connect(dbname="postgres", **admin) as conn:  # type: ignore[arg-type]
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_MODES = {
    "SHARE": "ShareLock",
    "SHARE ROW EXCLUSIVE": "ShareRowExclusiveLock",
    "ACCESS EXCLUSIVE": "AccessExclusiveLock",
}


@pytest.mark.skipif(BACKEND != "postgres", reason="asks a real PostgreSQL")
def test_postgresql_rules_match_the_locks_and_rewrites_the_server_makes(
    scratch_postgres: Any,
) -> None:
    conn = scratch_postgres
    wrong = []
    for sql, expected in PG_CASES.items():
        if "CONCURRENTLY" in sql:
            continue  # cannot run in a transaction block: what it does is documented
        with conn.cursor() as cursor:
            cursor.execute("SELECT relfilenode FROM pg_class WHERE relname = 'r'")
            before = cursor.fetchone()[0]
            cursor.execute(sql)
            cursor.execute("SELECT relfilenode FROM pg_class WHERE relname = 'r'")
            rewritten = cursor.fetchone()[0] != before
            cursor.execute(
                "SELECT l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE l.pid = pg_backend_pid() AND c.relname = 'r'"
            )
            modes = {row[0] for row in cursor.fetchall()}
        conn.rollback()
        if expected is None:
            ok = not rewritten
        else:
            ok = _MODES[expected[0]] in modes and rewritten == (expected[1] == "table rewrite")
            if expected[1] == "index build":  # an index is built: SHARE on the table too
                ok = ok and "ShareLock" in modes
        if not ok:
            wrong.append((sql, expected, sorted(modes), rewritten))

    assert wrong == []


@pytest.mark.skipif(BACKEND != "mariadb", reason="asks a real MariaDB")
def test_mariadb_rules_match_what_the_server_runs_with_writes_going_on() -> None:
    import MySQLdb

    name = f"hd_locks_{uuid.uuid4().hex[:8]}"
    conn = MySQLdb.connect(host="127.0.0.1", port=3306, user="root", passwd="")
    cursor = conn.cursor()
    cursor.execute(f"CREATE DATABASE `{name}`")
    wrong = []
    try:
        cursor.execute(f"USE `{name}`")
        for sql, expected in MYSQL_CASES.items():
            cursor.execute("DROP TABLE IF EXISTS r")
            cursor.execute("DROP TABLE IF EXISTS s")
            cursor.execute("CREATE TABLE s (id bigint PRIMARY KEY) ENGINE=InnoDB")
            cursor.execute(
                "CREATE TABLE r (id bigint PRIMARY KEY, value integer NOT NULL, "
                "label varchar(20) NOT NULL, s_id bigint NULL) ENGINE=InnoDB"
            )
            cursor.execute("INSERT INTO r VALUES (1, 1, 'a', NULL)")
            online = sql + (" LOCK=NONE" if sql.startswith("CREATE") else ", LOCK=NONE")
            try:
                cursor.execute(online)
                writes_go_on = True
            except MySQLdb.OperationalError as exc:
                assert exc.args[0] in (1845, 1846), exc  # "not supported": not another error
                writes_go_on = False
            if writes_go_on != (expected is None):
                wrong.append((sql, expected))
    finally:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()

    assert wrong == []


# A site with a table of 5 million rows and one of 10, and the same migration on each.

READINGS = Path("integrations/migrations/0003_readings.py")
PENDING = Path("integrations/migrations/0004_release_2.py")
MODELS = ("reading", "tiny")


def _create(site: Site) -> None:
    fields = (
        '[("id", models.BigAutoField(primary_key=True)), ("value", models.IntegerField()), '
        '("label", models.CharField(max_length=20))]'
    )
    body = "".join(
        f'        migrations.CreateModel("{name.title()}", {fields}),\n' for name in MODELS
    )
    (site.path / READINGS).write_text(
        "from django.db import migrations, models\n\n\n"
        "class Migration(migrations.Migration):\n"
        '    dependencies = [("integrations", "0002_integration_settings")]\n\n'
        f"    operations = [\n{body}    ]\n"
    )


def _pending(site: Site) -> None:
    operations = []
    for name in MODELS:
        operations += [
            f'migrations.AddIndex("{name}", models.Index(fields=["label"], name="{name}_label"))',
            f'migrations.AlterField("{name}", "value", models.BigIntegerField())',
            f'migrations.AddConstraint("{name}", models.CheckConstraint('
            f'condition=models.Q(value__gte=0), name="{name}_value_gte_0"))',
            f'migrations.AddField("{name}", "integration", models.ForeignKey('
            '"integrations.Integration", null=True, on_delete=models.CASCADE))',
        ]
    body = "".join(f"        {op},\n" for op in operations)
    (site.path / PENDING).write_text(
        "from django.db import migrations, models\n\n\n"
        "class Migration(migrations.Migration):\n"
        '    dependencies = [("integrations", "0003_readings")]\n\n'
        f"    operations = [\n{body}    ]\n"
    )


def _seed(site: Site) -> None:
    url = site.env["DATABASE_URL"]
    if BACKEND == "postgres":
        import psycopg

        with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as c:
            c.execute(
                "INSERT INTO integrations_reading (value, label) "
                "SELECT g, 'r' || g FROM generate_series(1, 5000000) AS g"
            )
            c.execute(
                "INSERT INTO integrations_tiny (value, label) SELECT g, 't' FROM "
                "generate_series(1, 10) AS g"
            )
            c.execute("ANALYZE integrations_reading")
            c.execute("ANALYZE integrations_tiny")
        return
    import MySQLdb

    database = url.rsplit("/", 1)[1]
    conn = MySQLdb.connect(host="127.0.0.1", port=3306, user="root", passwd="", db=database)
    cursor = conn.cursor()
    cursor.execute(
        "INSERT INTO integrations_reading (value, label) "
        "SELECT seq, CONCAT('r', seq) FROM seq_1_to_5000000"
    )
    cursor.execute("INSERT INTO integrations_tiny (value, label) SELECT seq, 't' FROM seq_1_to_10")
    conn.commit()
    cursor.execute("ANALYZE TABLE integrations_reading, integrations_tiny")
    cursor.fetchall()
    conn.close()


def _columns(site: Site) -> str:
    """The reading table's columns and types, as the server has them."""
    code = (
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        '    c.execute("SELECT column_name, data_type FROM information_schema.columns '
        "WHERE table_name = 'integrations_reading' ORDER BY column_name\")\n"
        "    print(sorted(tuple(r) for r in c.fetchall()))\n"
    )
    result = site.manage("shell", "-c", code)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.subprocess
@pytest.mark.skipif(BACKEND == "sqlite", reason="SQLite's locks are the whole file's")
def test_the_same_migration_is_quiet_on_10_rows_and_named_on_5_million(site: Site) -> None:
    _create(site)
    site.migrate()
    _seed(site)
    _pending(site)
    before = site.manage("showmigrations", "integrations").stdout, _columns(site)

    result = site.manage("health_deep", "plan", "--format", "json")
    after = site.manage("showmigrations", "integrations").stdout, _columns(site)

    report = json.loads(result.stdout)
    weighed = [f for f in report["findings"] if f["id"] in ("health_deep.E412", "health_deep.W413")]
    on_tables = {f["details"]["table"] for f in weighed}
    operations = sorted(int(f["object"].split("operation ")[1].split()[0]) for f in weighed)
    assert on_tables == {"integrations_reading"}, weighed  # never the 10-row table
    assert {f["id"] for f in weighed} == {"health_deep.W413"}  # 5 M: over 1 M, under 10 M
    # PostgreSQL: the index (SHARE), the type change (a rewrite), the check (a scan), the
    # foreign key's index; MariaDB builds indexes with writes going on.
    assert operations == ([1, 2, 3, 4] if BACKEND == "postgres" else [2, 3, 4]), weighed
    for finding in weighed:
        rows = finding["details"]["rows"]
        assert 4_000_000 < rows < 6_000_000  # an estimate, labelled as one
        assert (
            "estimated" in finding["message"] and finding["details"]["lock"] in finding["message"]
        )
        assert finding["hint"]  # the safe sequence
    assert [f["id"] for f in report["findings"]].count("health_deep.W414") == 1
    assert before == after and "[ ] 0004_release_2" in after[0]  # planned, not run


@pytest.mark.subprocess
@pytest.mark.skipif(BACKEND == "sqlite", reason="SQLite's locks are the whole file's")
def test_lock_check_says_the_same_with_size_unknown(site: Site) -> None:
    _create(site)
    _pending(site)
    lock = site.manage("health_deep", "lock", "--path", "t.lock")
    assert lock.returncode == 0, lock.stderr
    locked = (site.path / "t.lock").read_text().splitlines(keepends=True)
    (site.path / "t.lock").write_text("".join(x for x in locked if "0004_release_2" not in x))
    nowhere = {
        "DATABASE_URL": site.env["DATABASE_URL"].replace(":5432/", ":1/").replace(":3306/", ":1/")
    }

    result = site.manage_with(nowhere, "health_deep", "lock", "--check", "--path", "t.lock")

    unknown = [line for line in result.stdout.splitlines() if "health_deep.W415" in line]
    if BACKEND == "mariadb":  # Django asks the server's version for some of MySQL's SQL
        assert "Traceback" not in result.stderr, result.stderr
        assert "Deploy plan: not judged" in result.stdout or unknown, result.stdout
        return
    assert len(unknown) == 8, result.stdout + result.stderr  # the 4 operations on each table
    assert "size unknown" in result.stdout
    assert all("integrations_reading" in x or "integrations_tiny" in x for x in unknown)
