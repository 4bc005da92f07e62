"""Recorded smoke queries: what a function view and a ``get_queryset()`` built from the
request really run, recorded through the site's own requests, written to ``smoke.lock`` and
replayed read-only by the probe, on every backend."""

from __future__ import annotations

import datetime
import decimal
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import override_settings

from health_deep import runner
from health_deep.smoke import lockfile, recorded, recording
from health_deep.smoke.lockfile import is_plain_read
from tests import settings as test_settings
from tests.smokeapp.models import Author, Book, Publisher
from tests.test_schema_drift import MY, PG, modify, rebuild, sql

MIDDLEWARE = [*test_settings.MIDDLEWARE, "health_deep.middleware.SmokeRecordingMiddleware"]
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("statement", "plain"),
    [
        ('SELECT "a"."id" FROM "a"', True),
        ("WITH x AS (SELECT 1) SELECT * FROM x", True),
        ("SELECT 'an UPDATE in a string' AS note", True),
        ('SELECT "a"."id" FROM "a" FOR UPDATE', False),
        ('SELECT "a"."id" FROM "a" LOCK IN SHARE MODE', False),
        ("WITH gone AS (DELETE FROM a RETURNING id) SELECT * FROM gone", False),
        ("SELECT * INTO b FROM a", False),
        ('INSERT INTO "a" ("id") VALUES (1)', False),
        ('UPDATE "a" SET "id" = 2', False),
    ],
)
def test_only_plain_reads_are_recorded(statement: str, plain: bool) -> None:
    assert is_plain_read(statement) is plain


def test_parameters_are_written_with_their_types_and_read_back() -> None:
    values = [
        1,
        True,
        1.5,
        "x",
        None,
        decimal.Decimal("1.10"),
        datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        datetime.date(2026, 1, 2),
        uuid.UUID(int=7),
        b"\x00\x01",
        [1, 2],
    ]

    back = [lockfile.decode(json.loads(json.dumps(lockfile.encode(v)))) for v in values]

    assert back == values
    with pytest.raises(TypeError):
        lockfile.encode(object())


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("not json", "not JSON"),
        ('{"endpoints": {}}', "format 1"),
        (
            json.dumps(
                {
                    "health_deep_smoke_lock": 1,
                    "endpoints": {
                        "/x/": {"statements": [{"alias": "default", "sql": "DELETE FROM a"}]}
                    },
                }
            ),
            "only single plain SELECT",
        ),
        (
            json.dumps(
                {
                    "health_deep_smoke_lock": 1,
                    "endpoints": {
                        "/x/": {
                            "statements": [
                                {"alias": "default", "sql": "SELECT 1; DROP TABLE smokeapp_book"}
                            ]
                        }
                    },
                }
            ),
            "only single plain SELECT",
        ),
        (
            json.dumps(
                {
                    "health_deep_smoke_lock": 1,
                    "endpoints": {
                        "/x/": {
                            "statements": [
                                {"alias": "default", "sql": "SELECT %s", "params": [{"eval": "1"}]}
                            ]
                        }
                    },
                }
            ),
            "unknown type",
        ),
        ("x" * (lockfile.MAX_BYTES + 1), "larger than"),
    ],
)
def test_a_hostile_or_huge_lockfile_is_refused_whole_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(lockfile.Invalid, match=why):
        lockfile.parse(text)


@pytest.fixture
def lock(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "smoke.lock"
    with override_settings(HEALTH_DEEP={"SMOKE_LOCK": str(path)}):
        yield path


@pytest.mark.django_db
def test_an_unusable_lockfile_is_W309_and_runs_nothing(lock: Path) -> None:
    lock.write_text('{"health_deep_smoke_lock": 1, "endpoints": {"/x/": 3}}')

    findings = runner.smoke_findings()

    [w309] = [f for f in findings if f.id == "health_deep.W309"]
    assert "is not a route and its statements" in w309.message
    assert not [f for f in findings if f.critical]


def record(path: Path, *urls: str, post: str = "") -> lockfile.Recording:
    """The test client's GETs (and one POST) through the recording middleware, then the
    lockfile written."""
    recording.RECORDER = recording.Recorder()
    client = Client()
    with override_settings(
        MIDDLEWARE=MIDDLEWARE, HEALTH_DEEP={"RECORD_SMOKE": True, "SMOKE_LOCK": str(path)}
    ):
        for url in urls:
            assert client.get(url).status_code == 200, url
        if post:
            client.post(post)
        recording.RECORDER.flush(str(path))
    found = lockfile.read(path)
    assert found is not None
    return found


def immediate() -> None:
    """PostgreSQL refuses DDL on a table with deferred checks pending in the transaction."""
    if PG:
        sql("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.fixture
def library() -> None:
    author = Author.objects.create(name="Le Guin")
    publisher = Publisher.objects.create(name="Ace", country="US")
    Book.objects.create(title="The Dispossessed", author=author, publisher=publisher)


@pytest.mark.django_db
def test_a_recording_keeps_reads_never_writes_and_only_successful_gets(
    tmp_path: Path, library: None
) -> None:
    path = tmp_path / "smoke.lock"

    found = record(path, "/library/titles/?q=The", "/library/visit/", post="/library/titles/")

    assert set(found.endpoints) == {"/library/titles/", "/library/visit/"}
    titles = found.endpoints["/library/titles/"]
    assert titles.name == "library:titles"
    [statement] = titles.statements
    assert statement.sql.startswith("SELECT") and "smokeapp_book" in statement.sql
    assert statement.values() == ["The%"]  # one example value, as the view ran it
    [count] = found.endpoints["/library/visit/"].statements  # the INSERT before it is not kept
    assert "COUNT" in count.sql.upper() and "INSERT" not in path.read_text().upper()


@pytest.mark.django_db
def test_recorded_endpoints_are_covered_and_pass_on_a_healthy_database(
    tmp_path: Path, library: None
) -> None:
    path = tmp_path / "smoke.lock"
    record(path, "/library/titles/", "/library/mine/")

    with override_settings(HEALTH_DEEP={"SMOKE_LOCK": str(path)}):
        findings = runner.smoke_findings()

    assert [f.id for f in findings] == ["health_deep.I305"], findings
    [coverage] = findings
    assert set(coverage.details["recorded"]) == {
        "/library/titles/ (library:titles)",
        "/library/mine/ (library:mine)",
    }
    assert "(2 by their recorded queries)" in coverage.message


@pytest.mark.django_db
def test_E301_a_function_view_whose_row_the_field_cannot_read(
    tmp_path: Path, library: None
) -> None:
    path = tmp_path / "smoke.lock"
    record(path, "/library/titles/")
    immediate()
    if PG:
        sql('ALTER TABLE "smokeapp_book" ALTER COLUMN "priority" TYPE varchar(10)')
    elif MY:
        modify("smokeapp_book", "priority", "varchar(10)")
    else:
        rebuild("smokeapp_book", r'"priority" integer NOT NULL', '"priority" varchar(10) NOT NULL')
    author = Author.objects.create(name="A")
    sql(
        "INSERT INTO smokeapp_book (title, author_id, priority) "
        f"VALUES ('Theory', {author.pk}, 'urgent')"
    )

    with override_settings(HEALTH_DEEP={"SMOKE_LOCK": str(path)}):
        failures = [f for f in runner.smoke_findings() if f.critical]

    recorded_failures = [f for f in failures if "/library/titles/ (library:titles)" in f.endpoints]
    assert recorded_failures, failures
    assert {f.id for f in recorded_failures} == {"health_deep.E301"}
    assert recorded_failures[0].details["error"] == "ValueError"  # the field's converter


@pytest.mark.django_db
def test_E301_a_get_queryset_view_whose_column_is_gone(tmp_path: Path, library: None) -> None:
    path = tmp_path / "smoke.lock"
    record(path, "/library/mine/")
    immediate()
    drop = 'ALTER TABLE "smokeapp_book" DROP COLUMN "title"'
    sql(drop.replace('"', "`") if MY else drop)

    with override_settings(HEALTH_DEEP={"SMOKE_LOCK": str(path)}):
        failures = [f for f in runner.smoke_findings() if f.critical]

    mine = [f for f in failures if "/library/mine/ (library:mine)" in f.endpoints]
    assert [f.id for f in mine] == ["health_deep.E301"], failures


@pytest.mark.django_db
def test_a_recording_of_older_code_is_W310_and_not_run(lock: Path) -> None:
    stale = lockfile.Recording()
    stale.add(
        route="/library/titles/",
        name="library:titles",
        alias="default",
        sql='SELECT "smokeapp_book"."subtitle" FROM "smokeapp_book"',
        params=[],
    )
    stale.add(route="/gone/", name="gone", alias="default", sql="SELECT 1", params=[])
    lock.write_text(lockfile.render(stale))

    findings = runner.smoke_findings()

    [w310] = [f for f in findings if f.id == "health_deep.W310"]
    assert w310.details["count"] == 2
    assert not [f for f in findings if f.critical]  # never replayed: not a site failure


@pytest.mark.django_db(transaction=True)
def test_replays_write_nothing(tmp_path: Path, library: None) -> None:
    path = tmp_path / "smoke.lock"
    record(path, "/library/titles/", "/library/mine/", "/library/visit/")
    rows = [Book.objects.count(), Author.objects.count(), Publisher.objects.count()]

    with override_settings(HEALTH_DEEP={"SMOKE_LOCK": str(path)}):
        for _ in range(3):
            runner.smoke_findings()

    assert [Book.objects.count(), Author.objects.count(), Publisher.objects.count()] == rows
    if PG:
        with connection.cursor() as cursor:  # no sequence was advanced either
            cursor.execute("SELECT last_value FROM smokeapp_publisher_id_seq")
            assert cursor.fetchone()[0] == Publisher.objects.order_by("-id")[0].id


def test_a_detail_view_replays_an_existing_row_not_the_recorded_id() -> None:
    text, params = recorded.prepared(
        'SELECT "smokeapp_book"."id", "smokeapp_book"."title" FROM "smokeapp_book" '
        'WHERE "smokeapp_book"."id" = %s LIMIT 21',
        [99],
        None,
        "default",
    )

    assert params == []
    assert '= (SELECT "id" FROM "smokeapp_book" LIMIT 1) LIMIT 21' in text.replace("`", '"')


@pytest.mark.subprocess
def _record_with_pytest(tmp_path: Path, *options: str) -> tuple[subprocess.CompletedProcess, Path]:
    """A site's own test run (pages of the test app, one test each) with ``options`` and
    ``--health-deep-record``, in a process and a test database of its own."""
    tests = tmp_path / "test_site.py"
    tests.write_text(
        "import pytest\n"
        "from django.test import Client\n\n"
        "@pytest.mark.django_db\n"
        "@pytest.mark.parametrize('page', ['titles', 'books', 'published', 'ping'])\n"
        "def test_page(page):\n"
        "    assert Client().get(f'/library/{page}/').status_code == 200\n"
    )
    out = tmp_path / "recorded.lock"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "-o",
            "DJANGO_SETTINGS_MODULE=tests.settings",
            "-o",
            f"pythonpath={ROOT}",
            str(tests),
            *options,
            "--health-deep-record",
            "--health-deep-record-to",
            str(out),
        ],
        cwd=tmp_path,
        env={
            **os.environ,
            "HEALTH_DEEP_TEST_DB": "sqlite",
            "HEALTH_DEEP_TEST_RUN": uuid.uuid4().hex[:8],
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done, out


# /library/ping/ runs no query: nothing to record.
PAGES = {"/library/titles/", "/library/books/", "/library/published/"}


def test_pytest_records_the_sites_own_test_run(tmp_path: Path) -> None:
    done, out = _record_with_pytest(tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{out} holds 3 recorded endpoint(s)" in done.stdout
    found = lockfile.read(out)
    assert found is not None and set(found.endpoints) == PAGES


def test_pytest_xdist_workers_each_record_into_the_one_lockfile(tmp_path: Path) -> None:
    done, out = _record_with_pytest(tmp_path, "-n", "2")

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{out} holds 3 recorded endpoint(s)" in done.stdout
    found = lockfile.read(out)
    assert found is not None and set(found.endpoints) == PAGES


def test_lock_check_names_the_endpoints_neither_introspected_nor_recorded(lock: Path) -> None:
    import io

    from django.core.management import call_command

    recording_ = lockfile.Recording()
    recording_.add(
        route="/library/titles/",
        name="library:titles",
        alias="default",
        sql='SELECT "smokeapp_book"."id" FROM "smokeapp_book"',
        params=[],
    )
    lock.write_text(lockfile.render(recording_))
    migrations_lock = lock.with_name("migrations.lock")
    with pytest.raises(SystemExit):
        call_command("health_deep", "lock", "--path", str(migrations_lock), stdout=io.StringIO())
    out = io.StringIO()

    with pytest.raises(SystemExit):
        call_command("health_deep", "lock", "--check", "--path", str(migrations_lock), stdout=out)

    [line] = [x for x in out.getvalue().splitlines() if x.startswith(str(lock))]
    assert "neither read off their views nor recorded" in line
    assert "/library/ping/ (library:ping)" in line and "library:titles" not in line


@pytest.mark.parametrize(
    ("recorded_route", "discovered"),
    [
        ("api/v2/^integrations/$", "api/v2/integrations/"),
        ("api/^books/(?P<pk>[^/.]+)/$", "api/books/(?P<pk>[^/.]+)/"),
        ("^api/stats/$", "api/stats/"),
        ("api/items/<int:pk>/", "api/items/<int:pk>/"),
    ],
)
def test_a_request_route_is_spelled_as_discovery_spells_it(
    recorded_route: str, discovered: str
) -> None:
    from health_deep.smoke.discovery import normal_route

    assert normal_route(recorded_route) == discovered


@pytest.mark.django_db
def test_a_lockfile_that_cannot_be_written_never_fails_the_request(tmp_path: Path) -> None:
    recording.RECORDER = recording.Recorder()
    unwritable = tmp_path / "missing-folder" / "smoke.lock"
    with override_settings(
        MIDDLEWARE=MIDDLEWARE, HEALTH_DEEP={"RECORD_SMOKE": True, "SMOKE_LOCK": str(unwritable)}
    ):
        response = Client().get("/library/titles/")

    assert response.status_code == 200
    assert not unwritable.exists()


def test_a_recorded_statement_of_a_tenant_only_app_runs_in_the_tenants_schemas(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from health_deep import tenants
    from health_deep.smoke import execution
    from health_deep.smoke.discovery import Endpoint

    tenancy = tenants.Tenancy(
        library=tenants.Library(),
        alias="default",
        shared=frozenset({"auth"}),
        kinds=(tenants.Kind(name="", apps=frozenset({"smokeapp"})),),
    )
    monkeypatch.setattr(tenants, "get", lambda: tenancy)
    endpoint = Endpoint(route="/library/titles/", name="library:titles", view="v")
    found = recorded.Recorded(
        statements=[
            (
                recorded.Replay(
                    "default", 'SELECT 1 FROM "smokeapp_book"', (), None, "smokeapp.Book"
                ),
                (endpoint,),
            ),
            (
                recorded.Replay("default", 'SELECT 1 FROM "auth_user"', (), None, "auth.User"),
                (endpoint,),
            ),
        ],
        covered=frozenset({(endpoint.route, endpoint.name)}),
    )

    plan = execution.with_recorded(execution.Plan([]), found)

    assert [q.model for q in plan.in_tenants] == ["smokeapp.Book"]
    assert [q.model for q in plan.queries] == ["auth.User"]


_WRITER = """
import sys, time
from health_deep.smoke import lockfile
path, me, start = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
while time.time() < start:
    pass
for n in range(15):
    mine = lockfile.Recording()
    mine.add(route=f"/w{me}/{n}/", name="", alias="default", sql="SELECT 1", params=())
    lockfile.merge_into(path, mine)
"""


def test_writers_in_several_processes_at_once_lose_nothing(tmp_path: Path) -> None:
    # pytest-xdist's workers each write at the end of the run; a staging server's workers
    # every few seconds: each must merge what the others wrote.
    path = tmp_path / "smoke.lock"
    start = time.time() + 1.5
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(me), str(start)])
        for me in range(6)
    ]
    codes = [w.wait(timeout=60) for w in writers]

    written = lockfile.read(path)

    assert codes == [0] * 6
    assert written is not None
    assert len(written.endpoints) == 6 * 15, sorted(written.endpoints)


_SERVER_PROCESS = """
import sys
import django
from django.conf import settings
django.setup()
from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings
call_command("migrate", verbosity=0)
middleware = [*settings.MIDDLEWARE, "health_deep.middleware.SmokeRecordingMiddleware"]
override_settings(  # for the rest of the process, as a staging server's settings are
    MIDDLEWARE=middleware, HEALTH_DEEP={"RECORD_SMOKE": True, "SMOKE_LOCK": sys.argv[1]}
).enable()
client = Client()
for url in ("/library/titles/", "/library/books/", "/library/published/"):
    assert client.get(url).status_code == 200, url
"""


def test_what_a_recording_process_ran_last_is_written_when_it_exits(tmp_path: Path) -> None:
    # Requests seconds apart are written together, every FLUSH_EVERY seconds: the last ones
    # when the process stops (a staging server's workers stopped after a crawl).
    path = tmp_path / "smoke.lock"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "HEALTH_DEEP_TEST_DB": "sqlite",
    }

    done = subprocess.run(
        [sys.executable, "-c", _SERVER_PROCESS, str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    written = lockfile.read(path)
    assert done.returncode == 0, done.stderr
    assert written is not None
    assert set(written.endpoints) == {"/library/titles/", "/library/books/", "/library/published/"}


_STAGING = """
from example.settings import *  # noqa: F403
MIDDLEWARE = [*MIDDLEWARE, "health_deep.middleware.SmokeRecordingMiddleware"]  # noqa: F405
HEALTH_DEEP = {"RECORD_SMOKE": True, "SMOKE_LOCK": %r}
"""


@pytest.mark.subprocess
@pytest.mark.skipif(test_settings.BACKEND != "sqlite", reason="one run: the site is on SQLite")
def test_gunicorn_workers_write_what_they_recorded_when_stopped(tmp_path: Path) -> None:
    from tests.tenancy.helpers import get, gunicorn

    lock = tmp_path / "smoke.lock"
    (tmp_path / "staging.py").write_text(_STAGING % str(lock))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "staging",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'site.sqlite3'}",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT / "example_project"), str(ROOT)]),
    }
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "-v0"], env=env, check=True, timeout=120
    )
    with gunicorn(env) as port:
        stop = time.monotonic() + 60
        while get(port, "/api/ping/", "localhost")[0] != 200 and time.monotonic() < stop:
            time.sleep(0.2)
        pages = ["/api/integrations/", "/api/webhooks/", "/api/enabled/"]
        statuses = [get(port, page, "localhost")[0] for page in pages]
        before = lockfile.read(lock)  # within FLUSH_EVERY: the first request's, at most

    after = lockfile.read(lock)  # the workers stopped gracefully (SIGTERM)
    assert statuses == [200, 200, 200]
    assert before is None or len(before.endpoints) < 3
    assert after is not None and set(after.endpoints) == set(pages)
