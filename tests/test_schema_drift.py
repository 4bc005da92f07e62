"""Schema drift against real databases: break a migrated schema with real SQL, read the finding.

Mutations run inside the test's transaction (DDL is transactional on SQLite and PostgreSQL),
so each test starts from the cleanly migrated zoo; MariaDB commits DDL, so there a fixture in
``conftest.py`` puts the schema back after each test. SQLite cannot ALTER a column, so its
mutations rebuild the table from its own CREATE TABLE text with one change, as Django does.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from django.db import connection, connections
from django.test import Client

from health_deep import runner
from health_deep.findings import Finding, Severity

PG = connection.vendor == "postgresql"
SQLITE = connection.vendor == "sqlite"
MY = connection.vendor == "mysql"
only_pg = pytest.mark.skipif(not PG, reason="PostgreSQL-only mutation")
only_sqlite = pytest.mark.skipif(not SQLITE, reason="SQLite-only behaviour")
not_sqlite = pytest.mark.skipif(SQLITE, reason="SQLite does not enforce it")


def sql(*statements: str, alias: str = "default") -> None:
    """Run DDL; on MySQL with its own identifier quotes and without FK checks (so a table
    other tables reference can be dropped, as on the other backends)."""
    mysql = connections[alias].vendor == "mysql"
    with connections[alias].cursor() as cursor:
        if mysql:
            cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
        try:
            for statement in statements:
                cursor.execute(statement.replace('"', "`") if mysql else statement)
        finally:
            if mysql:
                cursor.execute("SET FOREIGN_KEY_CHECKS = 1")


def modify(table: str, column: str, new_type: str, *, null: bool | None = None) -> None:
    """MySQL's MODIFY restates the whole column: keep its nullability unless told."""
    if null is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT IS_NULLABLE FROM information_schema.COLUMNS WHERE "
                "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND COLUMN_NAME = %s",
                [table, column],
            )
            null = cursor.fetchone()[0] == "YES"
    sql(f'ALTER TABLE "{table}" MODIFY "{column}" {new_type} {"NULL" if null else "NOT NULL"}')


def constraint_name(table: str, column: str, *, unique: bool = False, foreign: bool = False) -> str:
    """The name the backend gave a one-column unique or foreign key constraint."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return next(
        name
        for name, c in found.items()
        if c["columns"] == [column]
        and (not unique or c["unique"])
        and (not foreign or c["foreign_key"])
    )


def rebuild(table: str, old: str, new: str) -> None:
    """Recreate an SQLite table from its CREATE TABLE text with ``old`` replaced by ``new``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
        create = cursor.fetchone()[0]
        assert re.search(old, create), f"{old!r} not in {create}"
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
            "AND sql IS NOT NULL",
            [table],
        )
        indexes = [row[0] for row in cursor.fetchall()]
        # SQLite refuses to drop a table a view reads: set the views aside meanwhile.
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view'")
        views = cursor.fetchall()
        for name, _ in views:
            cursor.execute(f'DROP VIEW "{name}"')
        cursor.execute(
            re.sub(old, new, create, count=1).replace(
                f'CREATE TABLE "{table}"', f'CREATE TABLE "{table}__new"', 1
            )
        )
        cursor.execute(f'DROP TABLE "{table}"')
        cursor.execute(f'ALTER TABLE "{table}__new" RENAME TO "{table}"')
        for index in indexes:
            cursor.execute(index)
        for _, view in views:
            cursor.execute(view)


def pg_constraint(table: str, kind: str, column: str) -> str:
    """The name PostgreSQL gave a one-column constraint of ``kind`` (u, f, c) on ``table``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT con.conname FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = con.conkey[1] "
            "WHERE c.relname = %s AND con.contype = %s AND a.attname = %s "
            "AND array_length(con.conkey, 1) = 1",
            [table, kind, column],
        )
        return str(cursor.fetchone()[0])


def drift(alias: str = "default") -> list[Finding]:
    return runner.schema_findings(alias)


def one(fid: str, obj: str | None = None, alias: str = "default") -> Finding:
    """The single finding of ``fid`` (on ``obj``), asserting nothing else above info appeared."""
    found = drift(alias)
    loud = [(f.id, f.object) for f in found if f.severity > Severity.INFO]
    matching = [f for f in found if f.id == fid and (obj is None or f.object == obj)]
    assert len(matching) == 1, found
    if matching[0].severity > Severity.INFO:
        assert loud == [(fid, matching[0].object)], loud
    return matching[0]


# -- the clean zoo -------------------------------------------------------------------------


@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize("alias", ["default", "other"])
def test_migrated_zoo_has_zero_findings(alias: str) -> None:
    assert drift(alias) == []


@pytest.mark.django_db(databases="__all__")
def test_router_decides_which_tables_each_alias_needs() -> None:
    default = {t.name for t in runner.expected_schema("default")}
    other = {t.name for t in runner.expected_schema("other")}

    assert other == {"zoo_other_ledger"}
    assert "zoo_other_ledger" not in default
    assert {
        "zoo_animals_custom",
        "zoo_animals_custom_friends",
        "zoo_active_animals",
        "auth_user",
        "django_flatpage_sites",
    } <= default


@pytest.mark.django_db
def test_schema_probe_is_one_catalog_query_whatever_the_model_count() -> None:
    from django.test.utils import CaptureQueriesContext

    runner.expected_schema("default")  # code-only, once per process
    with CaptureQueriesContext(connection) as queries:
        drift()

    catalog = [
        q
        for q in queries
        if any(
            name in q["sql"] for name in ("sqlite_master", "pg_class", "information_schema.COLUMNS")
        )
    ]
    assert len(catalog) == 1


# -- critical ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_E201_missing_table() -> None:
    sql('DROP TABLE "zoo_note"')

    finding = one("health_deep.E201", "zoo_note")

    assert finding.critical
    assert finding.details["model"] == "zoo.Note"


@pytest.mark.django_db
def test_E202_missing_column() -> None:
    sql('ALTER TABLE "testapp_integration" DROP COLUMN "enabled"')

    finding = one("health_deep.E202", "testapp_integration.enabled")

    assert finding.details["model"] == "testapp.Integration"
    assert "migrate" in finding.hint


@pytest.mark.django_db
def test_W219_missing_column_of_unmanaged_model_over_a_view() -> None:
    sql(
        "DROP VIEW zoo_active_animals",
        "CREATE VIEW zoo_active_animals AS SELECT a.id, a.name FROM zoo_animals_custom a",
    )

    finding = one("health_deep.W219", "zoo_active_animals.habitat_code")

    assert finding.severity is Severity.WARNING


@pytest.mark.django_db
def test_I224_unmanaged_view_absent_is_info_not_a_critical() -> None:
    # A framework that creates its view on one vendor only, and reads it only there.
    sql("DROP VIEW zoo_active_animals")

    finding = one("health_deep.I224", "zoo_active_animals")

    assert [f.id for f in drift() if f.severity > Severity.INFO] == []
    assert "E301" in finding.hint


@pytest.mark.django_db
def test_an_endpoint_reading_an_absent_unmanaged_view_still_fails_critically() -> None:
    from django.test.utils import override_settings

    sql("DROP VIEW zoo_active_animals")
    with override_settings(ROOT_URLCONF="tests.urls_unmanaged"):
        failed = [f for f in runner.smoke_findings() if f.id == "health_deep.E301"]

    assert len(failed) == 1
    assert failed[0].endpoints == ("/animals/ (active-animals)",)


@pytest.mark.django_db
def test_E203_incompatible_type() -> None:
    if PG:
        sql(
            'ALTER TABLE "testapp_integration" ALTER COLUMN "enabled" TYPE integer '
            'USING "enabled"::int'
        )
    elif MY:
        modify("testapp_integration", "enabled", "date")
    else:
        rebuild("testapp_integration", r'"enabled" bool', '"enabled" text')

    finding = one("health_deep.E203", "testapp_integration.enabled")

    assert finding.details["expected"] in ("boolean", "bool")  # Django's spelling


@not_sqlite
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("column", "new_type", "expected"),
    [
        ("name", "varchar(50)", "varchar(100)"),
        ("base_url", "char(10)", "varchar(200)"),
    ],
)
def test_E204_narrower_than_the_model(column: str, new_type: str, expected: str) -> None:
    if MY:
        modify("testapp_integration", column, new_type)
    else:
        sql(f'ALTER TABLE "testapp_integration" ALTER COLUMN "{column}" TYPE {new_type}')

    finding = one("health_deep.E204", f"testapp_integration.{column}")

    assert finding.details == {
        "model": "testapp.Integration",
        "expected": expected,
        "actual": finding.details["actual"],
    }


@not_sqlite
@pytest.mark.django_db
def test_E204_decimal_with_fewer_digits() -> None:
    if MY:
        modify("zoo_animals_custom", "weight", "numeric(6, 3)")
    else:
        sql('ALTER TABLE "zoo_animals_custom" ALTER COLUMN "weight" TYPE numeric(6, 3)')

    one("health_deep.E204", "zoo_animals_custom.weight")


@only_sqlite
@pytest.mark.django_db
def test_sqlite_lengths_are_not_compared_because_sqlite_does_not_enforce_them() -> None:
    rebuild("testapp_integration", r'"name" varchar\(100\)', '"name" varchar(5)')

    assert drift() == []


@pytest.mark.django_db
def test_E205_not_null_where_model_allows_null() -> None:
    if PG:
        sql('ALTER TABLE "zoo_animals_custom" ALTER COLUMN "born" SET NOT NULL')
    elif MY:
        modify("zoo_animals_custom", "born", "date", null=False)
    else:
        rebuild("zoo_animals_custom", r'"born" date NULL', '"born" date NOT NULL')

    one("health_deep.E205", "zoo_animals_custom.born")


@pytest.mark.django_db
def test_E206_extra_not_null_column_without_default() -> None:
    if PG or MY:
        sql(
            'ALTER TABLE "testapp_integration" ADD COLUMN "tenant" integer NOT NULL DEFAULT 1',
            'ALTER TABLE "testapp_integration" ALTER COLUMN "tenant" DROP DEFAULT',
        )
    else:
        rebuild(
            "testapp_integration",
            r'"enabled" bool NOT NULL\)',
            '"enabled" bool NOT NULL, "tenant" integer NOT NULL)',
        )

    one("health_deep.E206", "testapp_integration.tenant")


@only_pg
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_E207_uniqueness_resting_on_an_invalid_index() -> None:
    # What a failed CREATE UNIQUE INDEX CONCURRENTLY leaves behind.
    name = pg_constraint("zoo_tag", "u", "label")
    sql(
        f'ALTER TABLE "zoo_tag" DROP CONSTRAINT "{name}"',
        "INSERT INTO zoo_tag (label) VALUES ('dup'), ('dup')",
    )
    try:
        with pytest.raises(Exception, match="could not create unique index"):
            sql('CREATE UNIQUE INDEX CONCURRENTLY "zoo_tag_label_uniq" ON "zoo_tag" ("label")')

        one("health_deep.E207", "zoo_tag.label")
    finally:
        sql(
            'DROP INDEX IF EXISTS "zoo_tag_label_uniq"',
            "DELETE FROM zoo_tag",
            f'ALTER TABLE "zoo_tag" ADD CONSTRAINT "{name}" UNIQUE ("label")',
        )


@pytest.mark.django_db
def test_E208_db_default_missing_on_not_null_column() -> None:
    if PG or MY:
        sql('ALTER TABLE "zoo_animals_custom" ALTER COLUMN "status" DROP DEFAULT')
    else:
        rebuild(
            "zoo_animals_custom",
            r"\"status\" varchar\(10\) DEFAULT 'new' NOT NULL",
            '"status" varchar(10) NOT NULL',
        )

    one("health_deep.E208", "zoo_animals_custom.status")


# -- warnings ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_W210_wider_or_compatible_type() -> None:
    if PG:
        sql('ALTER TABLE "testapp_integration" ALTER COLUMN "name" TYPE varchar(250)')
    elif MY:
        modify("testapp_integration", "name", "varchar(250)")
    else:
        rebuild("testapp_integration", r'"enabled" bool', '"enabled" integer')

    finding = one("health_deep.W210")

    assert finding.severity is Severity.WARNING


@pytest.mark.django_db
def test_W211_nullable_where_model_is_not() -> None:
    if PG:
        sql('ALTER TABLE "testapp_integration" ALTER COLUMN "name" DROP NOT NULL')
    elif MY:
        modify("testapp_integration", "name", "varchar(100)", null=True)
    else:
        rebuild("testapp_integration", r'"name" varchar\(100\) NOT NULL', '"name" varchar(100)')

    one("health_deep.W211", "testapp_integration.name")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("index", "obj"),
    [
        ("zoo_big_idx", "zoo_animals_custom.zoo_big_idx"),
        ("zoo_lower_name_idx", "zoo_animals_custom.zoo_lower_name_idx"),
        ("zoo_visit_seen_idx", "zoo_visit.zoo_visit_seen_idx"),
    ],
)
def test_W212_missing_named_index(index: str, obj: str) -> None:
    if index == "zoo_lower_name_idx" and not connection.features.supports_expression_indexes:
        pytest.skip("no expression indexes on this backend: Django does not create it")
    if index == "zoo_visit_seen_idx" and SQLITE:
        pytest.skip("its create_sql() builds nothing on SQLite: see the test below")
    table = obj.split(".")[0]
    sql(f'DROP INDEX "{index}"' + (f' ON "{table}"' if MY else ""))

    one("health_deep.W212", obj)


@pytest.mark.django_db
def test_an_index_whose_own_create_sql_builds_nothing_here_is_not_expected() -> None:
    from tests.zoo.models import Visit

    built = "zoo_visit_seen_idx" in connection.introspection.get_constraints(
        connection.cursor(), Visit._meta.db_table
    )

    assert built is not SQLITE  # pretix's BRIN indexes: PostgreSQL only, nothing on SQLite
    assert [f for f in runner.schema_findings("default") if "zoo_visit" in f.object] == []


@pytest.mark.django_db
def test_W212_missing_db_index() -> None:
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, "zoo_keeper")
    name = next(
        n
        for n, c in indexes.items()
        if c["columns"] == ["badge"] and c["index"] and not c["unique"] and not n.endswith("_like")
    )
    sql(f'DROP INDEX "{name}"' + (' ON "zoo_keeper"' if MY else ""))
    if PG:  # the *_like helper index would still serve prefix lookups: drop it too
        sql(f'DROP INDEX "{name}_like"')

    one("health_deep.W212", "zoo_keeper.badge")


@pytest.mark.django_db
def test_W213_missing_unique() -> None:
    if PG:
        sql(f'ALTER TABLE "zoo_tag" DROP CONSTRAINT "{pg_constraint("zoo_tag", "u", "label")}"')
    elif MY:
        name = constraint_name("zoo_tag", "label", unique=True)
        sql(f'ALTER TABLE "zoo_tag" DROP INDEX "{name}"')
    else:
        rebuild("zoo_tag", r'"label" varchar\(30\) NOT NULL UNIQUE', '"label" varchar(30) NOT NULL')

    one("health_deep.W213", "zoo_tag.label")


@pytest.mark.django_db
def test_W213_missing_named_unique_constraint() -> None:
    if PG:
        sql('ALTER TABLE "zoo_care" DROP CONSTRAINT "zoo_care_uniq"')
    elif MY:  # the index also serves the foreign key on animal_id: give that one its own
        sql(
            'CREATE INDEX "zoo_care_animal_only" ON "zoo_care" ("animal_id")',
            'ALTER TABLE "zoo_care" DROP INDEX "zoo_care_uniq"',
        )
    else:
        rebuild("zoo_care", r', CONSTRAINT "zoo_care_uniq" UNIQUE \("animal_id", "keeper_id"\)', "")

    one("health_deep.W213", "zoo_care.zoo_care_uniq")


@pytest.mark.django_db
def test_W214_missing_foreign_key() -> None:
    if PG:
        sql(
            f'ALTER TABLE "zoo_care" DROP CONSTRAINT '
            f'"{pg_constraint("zoo_care", "f", "animal_id")}"'
        )
    elif MY:
        name = constraint_name("zoo_care", "animal_id", foreign=True)
        sql(f'ALTER TABLE "zoo_care" DROP FOREIGN KEY "{name}"')
    else:
        rebuild(
            "zoo_care",
            r'"animal_id" bigint NOT NULL REFERENCES "zoo_animals_custom" '
            r'\("id"\) DEFERRABLE INITIALLY DEFERRED',
            '"animal_id" bigint NOT NULL',
        )

    finding = one("health_deep.W214", "zoo_care.animal_id")

    assert finding.details["expected"] == ["zoo_animals_custom", "id"]


@pytest.mark.django_db
def test_W215_missing_check_constraint() -> None:
    if PG or MY:
        sql('ALTER TABLE "zoo_animals_custom" DROP CONSTRAINT "zoo_count_gte_0"')
    else:
        rebuild("zoo_animals_custom", r', CONSTRAINT "zoo_count_gte_0" CHECK \("count" >= 0\)', "")

    one("health_deep.W215", "zoo_animals_custom.zoo_count_gte_0")


@pytest.mark.skipif(MY, reason="MySQL's positive fields are UNSIGNED: the type refuses negatives")
@pytest.mark.django_db
def test_W215_missing_implicit_check_of_a_positive_field() -> None:
    if PG:
        name = pg_constraint("zoo_animals_custom", "c", "legs")
        sql(f'ALTER TABLE "zoo_animals_custom" DROP CONSTRAINT "{name}"')
    else:  # SQLite: the table rebuilt without the column's own CHECK
        rebuild("zoo_animals_custom", r' CHECK \("legs" >= 0\)', "")

    one("health_deep.W215", "zoo_animals_custom.legs")


@only_pg
@pytest.mark.django_db
def test_W215_missing_exclusion_constraint() -> None:
    sql('ALTER TABLE "zoo_pg_enclosure" DROP CONSTRAINT "zoo_pg_no_double_booking"')

    one("health_deep.W215", "zoo_pg_enclosure.zoo_pg_no_double_booking")


@pytest.mark.django_db
def test_W216_extra_unique_constraint_can_reject_writes() -> None:
    sql('CREATE UNIQUE INDEX "surprise_uniq" ON "testapp_integration" ("base_url")')

    one("health_deep.W216", "testapp_integration.surprise_uniq")


@pytest.mark.django_db
def test_W216_extra_unique_leading_with_a_foreign_key_column() -> None:
    # Its index serves the foreign key's lookups, but what it refuses is still unknown to the
    # model (the deploy plan found this hole: a new unique_together led by a foreign key).
    sql(
        'CREATE UNIQUE INDEX "surprise_habitat_uniq" ON "zoo_animals_custom" '
        '("habitat_id", "count")'
    )

    one("health_deep.W216", "zoo_animals_custom.surprise_habitat_uniq")


@not_sqlite
@pytest.mark.django_db
def test_W216_extra_check_constraint() -> None:
    sql(
        'ALTER TABLE "testapp_integration" ADD CONSTRAINT "surprise_chk" CHECK (length("name") > 3)'
    )

    one("health_deep.W216", "testapp_integration.surprise_chk")


@only_pg
@pytest.mark.django_db
def test_W217_check_constraint_not_validated() -> None:
    sql(
        'ALTER TABLE "zoo_animals_custom" DROP CONSTRAINT "zoo_count_gte_0"',
        'ALTER TABLE "zoo_animals_custom" ADD CONSTRAINT "zoo_count_gte_0" '
        'CHECK ("count" >= 0) NOT VALID',
    )

    one("health_deep.W217", "zoo_animals_custom.zoo_count_gte_0")


# -- info ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_I220_extra_nullable_column_is_info() -> None:
    sql('ALTER TABLE "testapp_integration" ADD COLUMN "next_release" text NULL')

    assert one("health_deep.I220", "testapp_integration.next_release").severity is Severity.INFO


@pytest.mark.django_db
def test_I221_extra_tables_are_one_info_finding() -> None:
    sql('CREATE TABLE "stray_one" (id integer)', 'CREATE TABLE "stray_two" (id integer)')

    finding = one("health_deep.I221")

    assert finding.details["tables"] == ["stray_one", "stray_two"]


@pytest.mark.django_db
def test_I222_extra_index_is_info() -> None:
    sql('CREATE INDEX "surprise_idx" ON "testapp_integration" ("base_url")')

    one("health_deep.I222", "testapp_integration.surprise_idx")


@pytest.mark.django_db(databases="__all__")
def test_other_alias_is_checked_on_its_own() -> None:
    sql('ALTER TABLE "zoo_other_ledger" DROP COLUMN "amount"', alias="other")

    one("health_deep.E202", "zoo_other_ledger.amount", alias="other")
    assert drift("default") == []


# -- wired: the endpoint, the command, a lock ---------------------------------------------


@pytest.fixture
def renamed_column() -> Iterator[None]:
    """Rename a column away (committed), and back afterwards."""
    sql('ALTER TABLE "testapp_integration" RENAME COLUMN "base_url" TO "base_url_gone"')
    yield
    sql('ALTER TABLE "testapp_integration" RENAME COLUMN "base_url_gone" TO "base_url"')


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_critical_drift_turns_health_503(client: Client, renamed_column: None) -> None:
    response = client.get("/health/ready/", HTTP_ACCEPT="application/json")

    assert response.status_code == 503
    check = response.json()["checks"]["SchemaDrift(alias='default')"]
    assert check["status"] == "fail"
    assert "health_deep.E202" in check["output"]
    assert "base_url" not in response.content.decode()  # anonymous: no column names


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_critical_drift_fails_the_command(renamed_column: None) -> None:
    import io

    from django.core.management import call_command

    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("health_deep", "--check", "schema", "--database", "default", stdout=out)

    assert exit_info.value.code == 1
    assert "health_deep.E202 [default] testapp_integration.base_url" in out.getvalue()


@only_pg
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_locked_tables_do_not_make_the_checks_hang() -> None:
    from tests.locks import access_exclusive

    with access_exclusive("health_deep_ledger", "testapp_integration"):
        started = time.monotonic()
        schema = runner.schema_findings("default")
        migrations = runner.migration_findings("default")
        elapsed = time.monotonic() - started

    assert schema == []  # the catalog is readable while a migration holds the table
    assert [f.id for f in migrations] == ["health_deep.E003"]
    assert elapsed < 3


# -- PostgreSQL schemas ----------------------------------------------------------------------


@only_pg
@pytest.mark.django_db
def test_db_table_naming_another_schema_is_checked_there() -> None:
    sql('ALTER TABLE zoo_archive.zoo_archived DROP COLUMN "label"')

    one("health_deep.E202", "zoo_archived.label")


@only_pg
@pytest.mark.django_db
def test_a_same_named_table_outside_the_search_path_is_not_mistaken_for_the_real_one() -> None:
    sql(
        "CREATE SCHEMA elsewhere",
        'CREATE TABLE elsewhere."testapp_integration" (id integer)',
        'DROP TABLE "zoo_note"',
        'CREATE TABLE elsewhere."zoo_note" (id integer)',
    )

    one("health_deep.E201", "zoo_note")  # and testapp_integration is still read from public


@only_pg
@pytest.mark.django_db
def test_search_path_decides_which_schema_holds_a_table() -> None:
    sql(
        "CREATE SCHEMA first_on_path",
        'CREATE TABLE first_on_path."testapp_integration" (id bigint PRIMARY KEY)',
        "SET LOCAL search_path = first_on_path, public",
    )

    found = drift()

    missing = sorted(f.object for f in found if f.id == "health_deep.E202")
    assert missing == [
        "testapp_integration.base_url",
        "testapp_integration.enabled",
        "testapp_integration.name",
    ]


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_system_check_reports_drift_as_a_warning(renamed_column: None) -> None:
    import io

    from django.core.management import call_command

    err = io.StringIO()
    call_command("check", databases=["default"], stderr=err, stdout=io.StringIO())

    assert "(health_deep.E202) Column testapp_integration.base_url" in err.getvalue()
    assert "WARNINGS" in err.getvalue()


@pytest.mark.django_db
def test_a_declared_index_under_another_name_on_the_same_columns_is_there() -> None:
    # index_together moved to Meta.indexes by SeparateDatabaseAndState keeps the old index.
    sql(
        'DROP INDEX "zoo_born_count_idx"' + (' ON "zoo_animals_custom"' if MY else ""),
        'CREATE INDEX "zoo_animals_custom_born_count_0a1b2c3d" ON "zoo_animals_custom" '
        '("born", "count")',
    )

    assert [f.id for f in drift() if f.severity > Severity.INFO] == []


@pytest.mark.django_db
def test_W212_a_declared_index_is_missing_when_no_index_has_its_columns() -> None:
    sql(
        'DROP INDEX "zoo_born_count_idx"' + (' ON "zoo_animals_custom"' if MY else ""),
        'CREATE INDEX "zoo_animals_custom_count_born" ON "zoo_animals_custom" ("count", "born")',
    )

    one("health_deep.W212", "zoo_animals_custom.zoo_born_count_idx")


@not_sqlite
@pytest.mark.django_db
def test_an_extra_not_null_column_a_before_insert_trigger_fills_is_not_E206() -> None:
    # django-watson on PostgreSQL: a tsvector column the model does not know, NOT NULL, set
    # by a BEFORE INSERT trigger; inserts work.
    sql(
        'ALTER TABLE "testapp_integration" ADD COLUMN "tenant" integer NOT NULL DEFAULT 1',
        'ALTER TABLE "testapp_integration" ALTER COLUMN "tenant" DROP DEFAULT',
    )
    if PG:
        sql(
            "CREATE FUNCTION hd_fill_tenant() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN NEW.tenant := 1; RETURN NEW; END $$",
            "CREATE TRIGGER hd_tenant BEFORE INSERT ON testapp_integration "
            "FOR EACH ROW EXECUTE FUNCTION hd_fill_tenant()",
        )
    else:
        sql(
            "CREATE TRIGGER hd_tenant BEFORE INSERT ON testapp_integration "
            "FOR EACH ROW SET NEW.tenant = 1"
        )
    try:
        finding = one("health_deep.I220", "testapp_integration.tenant")
    finally:
        if MY:
            sql("DROP TRIGGER hd_tenant")

    assert "trigger" in finding.message


@pytest.mark.skipif(not MY, reason="MySQL storage engines")
@pytest.mark.django_db
def test_a_myisam_table_expects_no_foreign_keys() -> None:
    # django-watson on MySQL moves its table to MyISAM for FULLTEXT: it keeps no foreign key.
    # MySQL refuses to move a table with a foreign key; watson's table has none left there.
    name = constraint_name("zoo_note", "content_type_id", foreign=True)
    sql(
        f'ALTER TABLE "zoo_note" DROP FOREIGN KEY "{name}"',
        'ALTER TABLE "zoo_note" ENGINE = MyISAM',
    )

    assert [(f.id, f.object) for f in drift() if f.severity > Severity.INFO] == []


@pytest.mark.skipif(not MY, reason="MySQL storage engines")
@pytest.mark.django_db
def test_W214_a_dropped_foreign_key_on_innodb_is_still_reported() -> None:
    name = constraint_name("zoo_note", "content_type_id", foreign=True)
    sql(f'ALTER TABLE "zoo_note" DROP FOREIGN KEY "{name}"')

    one("health_deep.W214", "zoo_note.content_type_id")
