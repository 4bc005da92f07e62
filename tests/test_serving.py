"""Probe-grade serving: one evaluation per TTL, answers within the deadline, details policy,
health+json, and no connection left behind."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.test import Client
from django.test.utils import override_settings

from health_deep import fleet
from health_deep.findings import Finding
from health_deep.probe_cache import CACHE, ProbeCache

TOKEN = "a-long-enough-health-token"


def slow(seconds: float, calls: list[int], findings: list[Finding] | None = None):  # type: ignore[no-untyped-def]
    def compute() -> list[Finding]:
        calls.append(1)
        time.sleep(seconds)
        return list(findings or [])

    return compute


def timed_out() -> list[Finding]:
    return [Finding(id="health_deep.E003", object="x", message="timed out")]


def test_concurrent_probes_cause_one_evaluation() -> None:
    cache, calls = ProbeCache(), []
    answers = []

    def probe() -> None:
        answers.append(cache.get("k", slow(0.2, calls), ttl=5, deadline=2, timed_out=timed_out))

    threads = [threading.Thread(target=probe) for _ in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(calls) == 1
    assert cache.evaluations == 1
    assert len(answers) == 200 and not any(a.stale for a in answers)


def test_probes_arriving_during_an_evaluation_answer_at_once_with_the_last_result() -> None:
    cache, calls = ProbeCache(), []
    last = [Finding(id="health_deep.W102", object="a.b", message="m")]
    cache.get("k", slow(0, calls, last), ttl=0.05, deadline=1, timed_out=timed_out)
    time.sleep(0.1)  # expired
    release = threading.Event()

    def blocked() -> list[Finding]:
        release.wait(5)
        return []

    starter = threading.Thread(
        target=cache.get,
        args=("k", blocked),
        kwargs={"ttl": 0.05, "deadline": 5, "timed_out": timed_out},
    )
    starter.start()
    while "k" not in cache._inflight:
        time.sleep(0.005)
    started = time.monotonic()
    follower = cache.get("k", blocked, ttl=0.05, deadline=5, timed_out=timed_out)
    peeked = cache.peek("k", ttl=0.05)
    waited = time.monotonic() - started
    release.set()
    starter.join()

    assert waited < 0.1  # not the 5 s deadline: no server thread held by a follower
    assert follower.stale and follower.findings == last
    assert peeked is not None and peeked.stale and peeked.findings == last
    assert cache.evaluations == 2


def test_ttl_expiry_evaluates_again() -> None:
    cache, calls = ProbeCache(), []
    compute = slow(0, calls)

    cache.get("k", compute, ttl=0.2, deadline=1, timed_out=timed_out)
    cached = cache.get("k", compute, ttl=0.2, deadline=1, timed_out=timed_out)
    time.sleep(0.25)
    cache.get("k", compute, ttl=0.2, deadline=1, timed_out=timed_out)

    assert len(calls) == 2
    assert cached.age > 0


def test_slow_check_answers_at_the_deadline_and_fills_the_cache_later() -> None:
    cache, calls = ProbeCache(), []
    compute = slow(0.6, calls, [Finding(id="health_deep.W102", object="a.b", message="m")])

    started = time.monotonic()
    first = cache.get("k", compute, ttl=5, deadline=0.1, timed_out=timed_out)
    elapsed = time.monotonic() - started
    time.sleep(0.7)
    second = cache.get("k", compute, ttl=5, deadline=0.1, timed_out=timed_out)

    assert elapsed < 0.3
    assert first.stale and [f.id for f in first.findings] == ["health_deep.E003"]
    assert [f.id for f in second.findings] == ["health_deep.W102"] and not second.stale
    assert len(calls) == 1


def test_expired_result_is_served_stale_while_a_slow_evaluation_runs() -> None:
    cache, calls = ProbeCache(), []
    cache.get("k", slow(0, calls, []), ttl=0.05, deadline=1, timed_out=timed_out)
    time.sleep(0.1)

    answer = cache.get("k", slow(0.5, calls), ttl=0.05, deadline=0.05, timed_out=timed_out)

    assert answer.stale and answer.findings == [] and answer.age >= 0.1


@pytest.mark.django_db(transaction=True, databases="__all__")  # the scope reads identities
@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "shared-probe-test",
        }
    },
    HEALTH_DEEP={"CACHE_ALIAS": "default"},
)
def test_a_fleet_sharing_a_django_cache_evaluates_once() -> None:
    fleet.scope()  # as the warm-up thread works it out: a probe never does
    instance_a, instance_b, calls = ProbeCache(), ProbeCache(), []

    instance_a.get("k", slow(0, calls), ttl=5, deadline=1, timed_out=timed_out)
    answer = instance_b.get("k", slow(0, calls), ttl=5, deadline=1, timed_out=timed_out)

    assert len(calls) == 1
    assert answer.findings == []


# -- through the view ----------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db(transaction=True, databases="__all__")


@pytestmark_db
def test_concurrent_requests_to_the_view_share_each_evaluation() -> None:
    statuses: list[int] = []

    def probe() -> None:
        statuses.append(Client().get("/health/", HTTP_ACCEPT="application/json").status_code)

    threads = [threading.Thread(target=probe) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 30
    # Two aliases: connection, migrations and schema for each, plus one smoke check.
    assert CACHE.evaluations == 7


@pytestmark_db
@override_settings(HEALTH_DEEP={"CACHE_TTL": 60})
def test_second_probe_is_served_from_the_cache_without_touching_the_database(
    client: Client,
) -> None:
    from django.test.utils import CaptureQueriesContext

    client.get("/health/ready/")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/health/ready/", HTTP_ACCEPT="application/json")

    checks = response.json()["checks"]
    assert checks["Migrations(alias='default')"]["age"] >= 0
    assert checks["Connection(alias='default')"]["age"] >= 0
    assert CACHE.evaluations == 7  # the first probe's: 2 aliases x 3 checks + smoke
    assert list(queries) == []  # not even a SELECT 1


@pytest.fixture
def broken() -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'testapp' AND name = '0002_tidy_names'"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) "
            "VALUES ('testapp', '0002_tidy_names', CURRENT_TIMESTAMP)"
        )


def details_visible(client: Client, **extra: str) -> bool:
    response = client.get("/health/", HTTP_ACCEPT="application/json", **extra)
    assert response.status_code == 503
    return "findings" in response.json()["checks"]["Migrations(alias='default')"]


@pytestmark_db
@pytest.mark.parametrize(
    ("setting", "extra", "visible"),
    [
        ({}, {}, False),
        ({"TOKEN": TOKEN}, {"HTTP_X_HEALTH_TOKEN": TOKEN}, True),
        ({"TOKEN": TOKEN}, {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}, True),
        ({"TOKEN": TOKEN}, {"HTTP_X_HEALTH_TOKEN": TOKEN + "x"}, False),
        ({"TOKEN": TOKEN}, {"HTTP_AUTHORIZATION": f"Basic {TOKEN}"}, False),
        ({}, {"HTTP_X_HEALTH_TOKEN": TOKEN}, False),  # no token configured: no token works
        ({"DETAILS_IPS": ["10.1.2.3"]}, {"REMOTE_ADDR": "10.1.2.3"}, True),
        ({"DETAILS_IPS": ["10.1.2.3"]}, {"REMOTE_ADDR": "10.1.2.4"}, False),
        ({"DETAILS": "never", "TOKEN": TOKEN}, {"HTTP_X_HEALTH_TOKEN": TOKEN}, False),
        ({"DETAILS": "always"}, {}, True),
    ],
    ids=[
        "anonymous",
        "token header",
        "bearer token",
        "wrong token",
        "basic scheme",
        "no token configured",
        "allowed ip",
        "other ip",
        "never",
        "always",
    ],
)
def test_details_policy(
    client: Client, broken: None, setting: dict[str, object], extra: dict[str, str], visible: bool
) -> None:
    with override_settings(HEALTH_DEEP=setting):
        assert details_visible(client, **extra) is visible


@pytestmark_db
def test_details_policy_staff_user_sees_and_plain_user_does_not(
    client: Client, broken: None
) -> None:
    users = get_user_model().objects
    client.force_login(users.create_user("plain", password="x"))
    plain = details_visible(client)
    client.force_login(users.create_user("ops", password="x", is_staff=True))

    assert (plain, details_visible(client)) == (False, True)


@pytestmark_db
def test_health_json_shape(client: Client, broken: None) -> None:
    with override_settings(HEALTH_DEEP={"TOKEN": TOKEN}):
        anonymous = client.get("/health/", HTTP_ACCEPT="application/health+json")
        authorised = client.get("/health/?format=health+json", HTTP_X_HEALTH_TOKEN=TOKEN)

    assert anonymous["Content-Type"] == "application/health+json"
    body = anonymous.json()
    assert body["status"] == "fail"
    assert set(body["checks"]) == {
        "database:connection",
        "migrations:integrity",
        "schema:drift",
        "endpoints:smokeQueries",
    }
    migrations = body["checks"]["migrations:integrity"]
    assert {e["componentId"] for e in migrations} == {"default", "other"}
    failing = next(e for e in migrations if e["componentId"] == "default")
    assert failing["status"] == "fail" and failing["observedValue"] == 1
    assert "testapp" not in anonymous.content.decode()
    assert "testapp.0002_tidy_names" in authorised.content.decode()


@pytestmark_db
def test_health_responses_are_never_cached_by_intermediaries(client: Client) -> None:
    response = client.get("/health/live/")

    assert "no-store" in response["Cache-Control"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="counts PostgreSQL backends")
@pytestmark_db
@override_settings(HEALTH_DEEP={"CACHE_TTL": 0})
def test_probes_leave_no_connection_open(client: Client) -> None:
    def backends() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                "current_database() AND pid <> pg_backend_pid()"
            )
            return int(cursor.fetchone()[0])

    before = backends()
    for _ in range(20):
        assert client.get("/health/").status_code == 200
    time.sleep(0.2)  # closed sockets take a moment to leave pg_stat_activity

    assert backends() == before


@pytest.mark.django_db
def test_warm_up_computes_the_code_facts_without_connecting() -> None:
    from django.db.backends.signals import connection_created

    from health_deep import backends, memo, warmup

    opened: list[str] = []

    def record(sender: object, connection: object, **kwargs: object) -> None:
        opened.append(threading.current_thread().name)

    connection_created.connect(record)
    try:
        warmup.start().join(timeout=30)
    finally:
        connection_created.disconnect(record)

    assert {"migrations:facts", "smoke:endpoints"} <= set(memo._cache)
    assert "smoke:plan" not in memo._cache  # planning runs managers: under the guard only
    if not backends.get(connection.vendor).features.types_need_server:  # MySQL's do
        assert any(key.startswith("schema:default") for key in memo._cache)
    assert opened == []


def test_an_evaluation_done_before_its_callback_is_registered_does_not_deadlock() -> None:
    from concurrent.futures import Future

    class Immediate:
        """An executor whose futures are complete when submit() returns."""

        def submit(self, fn, *args):  # type: ignore[no-untyped-def]
            future: Future[object] = Future()
            future.set_result(fn(*args))
            return future

    cache, calls = ProbeCache(), []
    cache._executor = Immediate()  # type: ignore[assignment]
    answers = []
    probe = threading.Thread(
        target=lambda: answers.append(
            cache.get("k", slow(0, calls), ttl=5, deadline=1, timed_out=timed_out)
        )
    )
    probe.start()
    probe.join(timeout=5)

    assert not probe.is_alive(), "deadlocked"
    assert answers[0].findings == [] and len(calls) == 1


@override_settings(HEALTH_DEEP={"MAX_AGE": 0.3})
def test_a_stale_result_past_the_max_age_is_E003_not_the_old_pass() -> None:
    cache, calls = ProbeCache(), []
    cache.get("k", slow(0, calls, []), ttl=0.05, deadline=1, timed_out=timed_out)  # a pass
    hung = threading.Event()

    def hangs() -> list[Finding]:
        hung.wait(5)  # a database that accepts connections and never answers
        return []

    time.sleep(0.1)
    young = cache.get("k", hangs, ttl=0.05, deadline=0.05, timed_out=timed_out)
    time.sleep(0.3)
    old = cache.get("k", hangs, ttl=0.05, deadline=0.05, timed_out=timed_out)
    hung.set()

    assert young.stale and young.findings == []  # still within the limit: the last pass
    assert old.stale and [f.id for f in old.findings] == ["health_deep.E003"]


def test_the_stale_limit_defaults_to_three_ttls_and_never_below_three_deadlines() -> None:
    from health_deep.conf import Config

    assert Config(cache_ttl=5, deadline=0.9).stale_limit == 15
    assert Config(cache_ttl=0.1, deadline=0.9).stale_limit == pytest.approx(2.7)
    assert Config(max_age=42).stale_limit == 42


@pytestmark_db
def test_liveness_with_a_session_cookie_opens_no_connection(client: Client) -> None:
    from django.db.backends.signals import connection_created

    opened: list[str] = []

    def record(sender: object, connection: object, **kwargs: object) -> None:
        opened.append(getattr(connection, "alias", "?"))

    client.cookies["sessionid"] = "a" * 32
    for conn in connections.all():
        conn.close()
    connection_created.connect(record)
    try:
        response = client.get("/health/live/")
    finally:
        connection_created.disconnect(record)

    assert response.status_code == 200
    assert opened == []


@pytestmark_db
@override_settings(SESSION_ENGINE="tests.brokensession")
def test_a_session_store_that_fails_means_not_authorised_not_a_500(
    client: Client, broken: None
) -> None:
    client.cookies["sessionid"] = "b" * 32

    response = client.get("/health/", HTTP_ACCEPT="application/json")

    assert response.status_code == 503
    assert "findings" not in response.json()["checks"]["Migrations(alias='default')"]


@pytestmark_db
@override_settings(HEALTH_DEEP={"CACHE_TTL": 0})
def test_a_failing_check_is_logged_once_when_it_appears_and_once_when_it_goes(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'testapp' AND name = '0002_tidy_names'"
        )
    for _ in range(10):
        assert client.get("/health/ready/").status_code == 503
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) "
            "VALUES ('testapp', '0002_tidy_names', CURRENT_TIMESTAMP)"
        )
    for _ in range(3):
        assert client.get("/health/ready/").status_code == 200

    theirs = [r for r in caplog.records if r.name.startswith("health_check")]
    ours = [r.getMessage() for r in caplog.records if r.name == "health_deep"]
    assert theirs == []  # no record (and no traceback) per probe
    assert [m for m in ours if "Migrations(alias='default')" in m] == [
        "health_deep: Migrations(alias='default') now reports health_deep.E101",
        "health_deep: Migrations(alias='default') passes again",
    ]
    assert not any(r.exc_info for r in caplog.records)


# -- the serving path itself ---------------------------------------------------------------


@pytestmark_db
@override_settings(HEALTH_DEEP={"CACHE_TTL": 60})
def test_a_cached_probe_under_wsgi_starts_no_thread(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before the hybrid view, every request ran the async view through async_to_sync: a new
    # event loop in a new thread per probe.
    client.get("/health/ready/")
    started: list[str] = []
    original = threading.Thread.start

    def counted(self: threading.Thread) -> None:
        started.append(self.name)
        original(self)

    monkeypatch.setattr(threading.Thread, "start", counted)
    statuses = {client.get(url).status_code for url in ["/health/ready/", "/health/"] * 10}

    assert statuses == {200}
    assert started == []


def test_the_view_is_a_coroutine_function_only_inside_an_event_loop() -> None:
    import asyncio

    from asgiref.sync import iscoroutinefunction
    from django.urls import resolve

    view = resolve("/health/ready/").func

    async def inside() -> bool:
        return iscoroutinefunction(view)

    assert iscoroutinefunction(view) is False
    assert asyncio.run(inside()) is True
    assert view.view_class.__name__ == "HealthView"


@pytestmark_db
@pytest.mark.parametrize("alias", ["default", "other"])
def test_atomic_requests_neither_wraps_nor_breaks_a_probe(
    alias: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from django.test import AsyncClient

    monkeypatch.setitem(connections.settings[alias], "ATOMIC_REQUESTS", True)

    async def asgi() -> int:
        return (await AsyncClient().get("/health/ready/")).status_code

    assert Client().get("/health/ready/").status_code == 200
    assert asyncio.run(asgi()) == 200  # Django refuses ATOMIC_REQUESTS around an async view


# -- a fresh process, and evaluations that never end --------------------------------------


def starting() -> list[Finding]:
    return [Finding(id="health_deep.W005", object="x", message="starting")]


def test_W005_a_first_evaluation_still_running_is_starting_not_E003() -> None:
    cache, calls = ProbeCache(), []

    first = cache.get(
        "k", slow(0.3, calls), ttl=5, deadline=0.05, timed_out=timed_out, starting=starting
    )

    assert [f.id for f in first.findings] == ["health_deep.W005"]


def test_a_later_evaluation_past_the_deadline_is_not_starting() -> None:
    cache, calls = ProbeCache(), []
    cache.get("k", slow(0, calls), ttl=0.05, deadline=1, timed_out=timed_out, starting=starting)
    time.sleep(0.1)

    with override_settings(HEALTH_DEEP={"MAX_AGE": 0.01}):
        later = cache.get(
            "k", slow(0.3, calls), ttl=0.05, deadline=0.05, timed_out=timed_out, starting=starting
        )

    assert [f.id for f in later.findings] == ["health_deep.E003"]


@override_settings(
    HEALTH_DEEP={"DEADLINE": 0.05, "STATEMENT_TIMEOUT": 0.01, "SMOKE_DEADLINE": 0.01}
)
def test_an_evaluation_stuck_past_the_abandon_limit_is_replaced_and_not_starting_again() -> None:
    cache, hung = ProbeCache(), threading.Event()

    def hangs() -> list[Finding]:
        hung.wait(10)  # a database that never answers
        return []

    answers = [cache.get("k", hangs, ttl=5, deadline=0.05, timed_out=timed_out, starting=starting)]
    time.sleep(0.25)  # past 2 deadlines + 4 statement timeouts + the smoke deadline
    answers.append(
        cache.get("k", slow(0, []), ttl=5, deadline=0.5, timed_out=timed_out, starting=starting)
    )
    answers.append(
        cache.get("k", hangs, ttl=5, deadline=0.05, timed_out=timed_out, starting=starting)
    )
    hung.set()

    assert [f.id for f in answers[0].findings] == ["health_deep.W005"]
    assert cache.abandoned == 1 and cache.evaluations == 2
    assert answers[1].findings == [] and not answers[1].stale  # the fresh one answered
    assert answers[2].findings == []


def test_a_result_that_timed_out_is_not_kept_for_the_ttl() -> None:
    cache, calls = ProbeCache(), []
    cache.get("k", slow(0, calls, timed_out()), ttl=60, deadline=1, timed_out=timed_out)

    again = cache.get("k", slow(0, calls), ttl=60, deadline=1, timed_out=timed_out)

    assert len(calls) == 2
    assert again.findings == []


def slow_facts(seconds: float):  # type: ignore[no-untyped-def]
    from health_deep import runner

    real = runner.migration_facts

    def facts(**kwargs: bool) -> None:
        time.sleep(seconds)
        real(**kwargs)

    return facts


@pytest.mark.django_db(transaction=True, databases="__all__")
@override_settings(HEALTH_DEEP={"DEADLINE": 0.3})
def test_a_worker_still_starting_is_503_on_ready_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from health_deep import runner

    monkeypatch.setattr(runner, "migration_facts", slow_facts(2.0))
    client = Client()

    deep = client.get("/health/", HTTP_ACCEPT="application/json")
    ready = client.get("/health/ready/", HTTP_ACCEPT="application/json")

    assert deep.status_code == 200 and deep.json()["status"] == "warn"
    assert ready.status_code == 503 and ready.json()["status"] == "fail"
    checks = deep.json()["checks"]
    assert checks["Connection(alias='default')"]["status"] == "pass"  # it waits on nothing


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_fleet_scope_is_never_worked_out_by_a_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    from health_deep import fleet

    threads: list[str] = []
    real = fleet._compute
    monkeypatch.setattr(
        fleet, "_compute", lambda: threads.append(threading.current_thread().name) or real()
    )
    caches = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(CACHES=caches, HEALTH_DEEP={"CACHE_ALIAS": "default"}):
        assert Client().get("/health/").status_code == 200
        stop = time.monotonic() + 10
        while fleet.known_scope() is None and time.monotonic() < stop:
            time.sleep(0.02)

    assert threads == ["health_deep-warm-up"]


@pytest.mark.django_db(transaction=True, databases="__all__")  # the scope reads identities
@override_settings(
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    HEALTH_DEEP={"CACHE_ALIAS": "default"},
)
def test_a_result_that_timed_out_is_not_shared_with_the_fleet() -> None:
    fleet.scope()
    instance_a, instance_b, calls = ProbeCache(), ProbeCache(), []

    instance_a.get("k", slow(0, calls, timed_out()), ttl=60, deadline=1, timed_out=timed_out)
    answer = instance_b.get("k", slow(0, calls), ttl=60, deadline=1, timed_out=timed_out)

    assert len(calls) == 2
    assert answer.findings == []


@pytestmark_db
@override_settings(SESSION_ENGINE="tests.hangingsession")
def test_a_session_store_that_hangs_costs_the_deadline_not_more(
    client: Client, broken: None
) -> None:
    from tests import hangingsession

    client.cookies["sessionid"] = "h" * 32
    try:
        started = time.monotonic()
        response = client.get("/health/", HTTP_ACCEPT="application/json")
        took = time.monotonic() - started
    finally:
        hangingsession.RELEASE.set()

    assert response.status_code == 503  # the verdict, without details: not authorised
    assert "findings" not in response.json()["checks"]["Migrations(alias='default')"]
    assert took < 0.9 + 0.5, took
