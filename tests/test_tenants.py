"""A django-tenants site (shared ``customers`` in ``public``; ``notes`` and the 19-table
``ledger`` in every tenant's schema) on a real PostgreSQL, broken with real SQL the way a
failed ``migrate_schemas`` or a hand edit leaves it: each broken tenant is named exactly, by
the command and by a served ``/health/``, on the public host and on each tenant's own."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.settings import BACKEND
from tests.tenancy.helpers import ROOT, by_id, check, database, get, gunicorn, psql, until

pytestmark = [
    pytest.mark.subprocess,
    pytest.mark.skipif(BACKEND != "postgres", reason="django-tenants is PostgreSQL-only"),
]

TENANTS = 4


@pytest.fixture
def site() -> Iterator[dict[str, str]]:
    with database(
        "tests.settings_tenants",
        ["-m", "django", "migrate_schemas", "--shared", "-v0"],
        ["-m", "tests.tenancy.make_tenants", str(TENANTS)],
    ) as env:
        yield env


def test_a_healthy_tenant_site_passes_and_runs_tenant_endpoints_in_tenant_schemas(
    site: dict,
) -> None:
    code, findings = check(site)

    assert code == 0, findings
    assert by_id(findings) == {}
    [coverage] = [f for f in findings if f["id"] == "health_deep.I305"]
    assert coverage["details"]["covered"] == ["/notes/ (notes)"]
    assert coverage["details"]["tenant_schemas"] == {"ran": TENANTS, "of": TENANTS, "queries": 1}


def test_a_tenant_behind_and_a_tenant_without_schema_are_named(site: dict) -> None:
    psql(
        site["HEALTH_DEEP_TENANTS_DB"],
        # migrate_schemas died before t2's notes: its row never written, its table never made
        "DELETE FROM t2.django_migrations WHERE app = 'notes'",
        "DROP TABLE t2.notes_note",
        "INSERT INTO customers_client (schema_name, name) VALUES ('t9', 'never migrated')",
    )

    code, findings = check(site)

    assert code == 1
    found = by_id(findings)
    assert set(found) == {
        "health_deep.E112",
        "health_deep.E114",
        "health_deep.E225",
        "health_deep.E308",
    }, found
    assert found["health_deep.E112"]["details"]["schemas"] == ["t2"]
    assert found["health_deep.E112"]["details"]["unapplied"] == ["notes.0001_initial"]
    assert found["health_deep.E112"]["details"]["domains"] == {"t2": "t2.localhost"}
    assert found["health_deep.E112"]["details"]["tenants"] == TENANTS + 1
    assert found["health_deep.E114"]["details"]["schemas"] == ["t9"]
    assert found["health_deep.E225"]["details"]["schemas"] == ["t2"]
    [missing] = found["health_deep.E225"]["details"]["findings"]
    assert (missing["id"], missing["object"]) == ("health_deep.E201", "notes_note")
    # Its endpoint fails in both: the table is in neither schema (nor, rightly, in public).
    assert found["health_deep.E308"]["details"]["schemas"] == ["t2", "t9"]
    assert found["health_deep.E308"]["endpoints"] == ["/notes/ (notes)"]


def test_a_column_dropped_in_one_tenant_is_named_with_its_endpoint(site: dict) -> None:
    psql(site["HEALTH_DEEP_TENANTS_DB"], "ALTER TABLE t3.notes_note DROP COLUMN body")

    code, findings = check(site)

    assert code == 1
    found = by_id(findings)
    assert set(found) == {"health_deep.E225", "health_deep.E308"}, found
    drift = found["health_deep.E225"]
    assert drift["details"]["schemas"] == ["t3"]
    assert [(f["id"], f["object"]) for f in drift["details"]["findings"]] == [
        ("health_deep.E202", "notes_note.body")
    ]
    assert found["health_deep.E308"]["details"]["schemas"] == ["t3"]
    assert "body" in found["health_deep.E308"]["details"]["findings"][0]["detail"]


def test_a_missing_index_in_one_tenant_is_a_warning(site: dict) -> None:
    psql(site["HEALTH_DEEP_TENANTS_DB"], "DROP INDEX t1.ledger_entry7_parent_id_34d3b209")

    code, findings = check(site)

    assert code == 0
    found = by_id(findings)
    assert list(found) == ["health_deep.W226"], found
    assert found["health_deep.W226"]["details"]["schemas"] == ["t1"]
    assert found["health_deep.W226"]["details"]["findings"][0]["id"] == "health_deep.W212"


def test_a_tenant_table_left_in_public_is_a_warning_of_its_own(site: dict) -> None:
    psql(site["HEALTH_DEEP_TENANTS_DB"], "CREATE TABLE public.notes_note (LIKE t1.notes_note)")

    code, findings = check(site)

    assert code == 0
    found = by_id(findings)
    assert list(found) == ["health_deep.W227"], found
    assert found["health_deep.W227"]["details"]["tables"] == ["notes_note"]
    assert not [f for f in findings if f["id"] == "health_deep.I221"]


def test_served_health_names_broken_tenants_and_each_host_answers_for_its_own(
    site: dict,
) -> None:
    psql(
        site["HEALTH_DEEP_TENANTS_DB"],
        "DELETE FROM t2.django_migrations WHERE app = 'ledger'",  # behind
        "ALTER TABLE t3.notes_note DROP COLUMN body",  # drifted
    )
    with gunicorn(site) as port:
        until(port, "public.localhost", lambda body: "E308" in body)
        public = get(port, "/health/", "public.localhost")
        ready = get(port, "/health/ready/", "public.localhost")
        hosts = {n: get(port, "/health/", f"t{n}.localhost") for n in range(1, TENANTS + 1)}
        ready_t2 = get(port, "/health/ready/", "t2.localhost")

    assert public[0] == 503
    assert "E112" in public[1] and "E225" in public[1] and "E308" in public[1]
    assert ready[0] == 200  # 2 of 4 tenants: the instances stay in the load balancer
    assert hosts[2][0] == 503 and "E112" in hosts[2][1] and "E225" not in hosts[2][1]
    assert hosts[3][0] == 503 and "E225" in hosts[3][1] and "E112" not in hosts[3][1]
    assert hosts[1][0] == 200 and hosts[4][0] == 200, (hosts[1], hosts[4])
    assert ready_t2[0] == 200


def test_a_scheme_described_in_settings_is_judged_as_django_tenants_is(site: dict) -> None:
    described = {**site, "DJANGO_SETTINGS_MODULE": "tests.settings_tenants_described"}
    healthy, quiet = check(described)
    psql(site["HEALTH_DEEP_TENANTS_DB"], "ALTER TABLE t3.notes_note DROP COLUMN body")

    code, findings = check(described)

    assert healthy == 0 and by_id(quiet) == {}, quiet
    assert code == 1
    found = by_id(findings)
    assert set(found) == {"health_deep.E225", "health_deep.E308"}, found
    assert found["health_deep.E225"]["details"]["schemas"] == ["t3"]


def test_at_10_and_200_tenants_a_healthy_site_passes_at_the_same_cost(site: dict) -> None:
    from tests.tenancy.make_tenants import clone

    clone(site["HEALTH_DEEP_TENANTS_DB"], TENANTS + 1, 10)
    few, (code_10, _) = _measured(site), check(site)
    clone(site["HEALTH_DEEP_TENANTS_DB"], 11, 200)

    many, (code_200, findings) = _measured(site), check(site)
    with gunicorn(site) as port:
        until(port, "public.localhost", lambda body: True)
        served = {host: get(port, "/health/", host)[0] for host in _HOSTS}

    assert (code_10, code_200) == (0, 0), by_id(findings)
    assert served == dict.fromkeys(_HOSTS, 200)
    for check_name in ("migrations", "schema", "smoke"):
        for when in ("first", "steady"):
            assert many[check_name][when]["statements"] == few[check_name][when]["statements"], (
                check_name,
                when,
                few[check_name][when],
                many[check_name][when],
            )


_HOSTS = ("public.localhost", "t1.localhost", "t200.localhost")


def test_probes_read_the_tenants_in_turn_and_say_which_were_not_read_yet(site: dict) -> None:
    # t4, read last, is behind (its notes migration row gone, its table dropped).
    psql(
        site["HEALTH_DEEP_TENANTS_DB"],
        "DELETE FROM t4.django_migrations WHERE app = 'notes'",
        "DROP TABLE t4.notes_note",
    )

    turns = _run("tests.tenancy.turns", str(TENANTS + 1), env=site)

    # One schema per probe: I115 and I228 name the schemas still to read, fewer each turn ...
    assert [sorted(t.get("health_deep.I115", [])) for t in turns] == [
        ["t2", "t3", "t4"],
        ["t3", "t4"],
        ["t4"],
        [],
        [],
    ]
    assert [len(t.get("health_deep.I228", [])) for t in turns] == [3, 2, 1, 0, 0]
    # ... and the broken tenant is named once its turn came, and stays named.
    assert [t.get("health_deep.E112") for t in turns] == [None, None, None, ["t4"], ["t4"]]
    assert [t.get("health_deep.E225") for t in turns] == [None, None, None, ["t4"], ["t4"]]


def _measured(env: dict[str, str]) -> dict:
    return _run("tests.tenancy.measure", "2", env=env)


def _run(module: str, *args: str, env: dict[str, str]) -> Any:
    """What ``python -m module args`` printed last, as JSON."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# t2 stopped before ledger 0002 and 0003 (its active column still there, a NULL in when),
# t3 before 0003 alone: what migrate_schemas leaves when it dies partway through a deploy.
BEHIND = (
    "DELETE FROM t2.django_migrations WHERE app = 'ledger' "
    "AND name IN ('0002_remove_entry19_active', '0003_alter_entry19_when')",
    "ALTER TABLE t2.ledger_entry19 ADD COLUMN active boolean NOT NULL DEFAULT true, "
    'ALTER COLUMN "when" DROP NOT NULL',
    'INSERT INTO t2.ledger_entry19 (title, code, amount, count, active, "when") '
    "VALUES ('x', 'x', 0, 0, true, NULL)",
    "DELETE FROM t3.django_migrations WHERE app = 'ledger' AND name = '0003_alter_entry19_when'",
    'ALTER TABLE t3.ledger_entry19 ALTER COLUMN "when" DROP NOT NULL',
)


def plan(env: dict[str, str], *options: str) -> tuple[int, dict]:
    done = subprocess.run(
        [sys.executable, "-m", "django", "health_deep", "plan", "--format", "json", *options],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, json.loads(done.stdout)


def test_plan_judges_every_tenant_state_and_counts_each_tenants_rows(site: dict) -> None:
    psql(site["HEALTH_DEEP_TENANTS_DB"], *BEHIND)

    code, answer = plan(site)

    assert code == 1
    assert answer["pending"] == []  # the shared schema is up to date
    assert sorted((s["schemas"], s["pending"]) for s in answer["tenants"]) == [
        (["t1", "t4"], []),
        (["t2"], ["ledger.0002_remove_entry19_active", "ledger.0003_alter_entry19_when"]),
        (["t3"], ["ledger.0003_alter_entry19_when"]),
    ]
    found = sorted((f["id"], f["object"], f["details"].get("schemas")) for f in answer["findings"])
    assert found == [
        ("health_deep.E402", "ledger_entry19.active", ["t2"]),
        ("health_deep.E404", "ledger_entry19.when", ["t2"]),
        ("health_deep.E404", "ledger_entry19.when", ["t3"]),
        ("health_deep.E409", "ledger.0003_alter_entry19_when operation 1", ["t2"]),
        ("health_deep.W411", "3 migration states", None),
    ]
    [rows] = [f for f in answer["findings"] if f["id"] == "health_deep.E409"]
    assert rows["details"]["rows"] == {"t2": 1}


def test_plan_says_which_tenants_it_had_no_time_to_count(site: dict) -> None:
    psql(site["HEALTH_DEEP_TENANTS_DB"], *BEHIND)

    code, answer = plan(site, "--budget", "0.001")

    counted = [f for f in answer["findings"] if f["id"] in ("health_deep.E409", "health_deep.W410")]
    assert code == 1  # the schema changes still break the running release
    assert {f["id"] for f in counted} == {"health_deep.W410"}, counted  # never "no rows"
    assert sorted(s for f in counted for s in f["details"]["schemas"]) == ["t2", "t3"]


def test_lock_check_judges_new_migrations_of_tenant_apps_in_tenant_schemas(
    site: dict, tmp_path: Path
) -> None:
    lock = tmp_path / "migrations.lock"
    command = [sys.executable, "-m", "django", "health_deep", "lock", "--path", str(lock)]
    subprocess.run(command, env=site, cwd=ROOT, check=True, capture_output=True)
    lines = lock.read_text().splitlines(keepends=True)
    lock.write_text("".join(line for line in lines if "entry19" not in line))

    done = subprocess.run(
        [*command, "--check"], env=site, cwd=ROOT, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 1
    assert "E402" in done.stdout and "E404" in done.stdout, done.stdout
    assert "In every tenant schema: Column ledger_entry19.active" in done.stdout


def test_an_applied_tenant_app_migration_edited_since_is_E103(site: dict) -> None:
    # The incident, in a tenant app: the ledger (in public, written when migrate ran there)
    # holds another fingerprint than the file on disk has now.
    psql(
        site["HEALTH_DEEP_TENANTS_DB"],
        "UPDATE health_deep_ledger SET fingerprint = (SELECT fingerprint FROM "
        "health_deep_ledger WHERE app = 'ledger' AND name = '0001_initial') "
        "WHERE app = 'notes' AND name = '0001_initial'",
    )

    code, findings = check(site)

    assert code == 1
    found = by_id(findings)
    assert list(found) == ["health_deep.E103"], found
    assert found["health_deep.E103"]["object"] == "notes.0001_initial"
