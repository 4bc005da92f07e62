"""A fresh or recycled worker on a large site: what its first probe answers and costs. Prints a
table; not a test.

    python benchmarks/coldstart.py                        # 500 models; every backend
    python benchmarks/coldstart.py --backends postgresql --runs 5 --markdown

For each backend, on a generated site (``scale.py``'s models, in foreign-key chains of ten so
that ``migrate`` of 500 models takes seconds, not minutes), with health_deep's default settings:

- the first ``GET /health/`` of a fresh process, with the code-facts store ``migrate`` left
  (a recycled worker, or a deploy's workers after ``migrate``) and with an empty store (the
  first process of a release on this machine): status, the view's own time, each check's word;
- loading the migration facts and the autodetector's verdict in a fresh process, from the
  store and worked out afresh;
- ``manage.py migrate --check`` with health_deep installed and without it (django-health-check
  stays), in interleaved runs;
- RSS after the first probe, with health_deep and with only django-health-check's view;
- on PostgreSQL, a recycling run: gunicorn (sync, 2 workers, ``--max-requests 50``), a poller
  on ``/health/`` every 0.2 s beside ordinary traffic, counting the answers that are not 200.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generated_site import GeneratedSite, SiteError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST = """
import json, resource, time
import django
django.setup()
from django.test import Client
started = time.perf_counter()
r = Client().get("/health/", HTTP_ACCEPT="application/json")
took = time.perf_counter() - started
body = json.loads(r.content) if r.content.startswith(b"{") else {}
checks = {name: c["status"] for name, c in body.get("checks", {}).items()}
print(json.dumps({"status": r.status_code, "ms": took * 1000,
                  "server": r.headers.get("Server-Timing"), "checks": checks,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

FACTS = """
import json, time
import django
django.setup()
from health_deep.history import graph
started = time.perf_counter()
graph.code_facts()
graph.missing_migrations()
print(json.dumps({"ms": (time.perf_counter() - started) * 1000}))
"""


class Site(GeneratedSite):
    def timed(self, *args: str, env: dict[str, str] | None = None) -> float:
        started = time.perf_counter()
        self.run(*args, env=env, check=False)
        return time.perf_counter() - started


def first_probes(site: Site, runs: int) -> dict[str, list[dict[str, object]]]:
    out: dict[str, list[dict[str, object]]] = {"store": [], "empty store": []}
    for run in range(runs):
        out["store"].append(site.json(FIRST))
        empty = {"CODE_FACTS_DIR": str(site.path / f"empty-{run}")}
        out["empty store"].append(site.json(FIRST, env=empty))
    return out


def facts(site: Site, runs: int) -> dict[str, float]:
    stored = [float(site.json(FACTS)["ms"]) for _ in range(runs)]
    afresh = [
        float(site.json(FACTS, env={"CODE_FACTS_DIR": str(site.path / f"afresh-{i}")})["ms"])
        for i in range(runs)
    ]
    return {"from the store": statistics.median(stored), "worked out": statistics.median(afresh)}


def migrate_check(site: Site, runs: int) -> dict[str, float]:
    without = {"WITHOUT_HEALTH_DEEP": "1"}
    times: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(runs):  # interleaved, so a slow spell of the host is shared out
        times["with"].append(site.timed("-m", "django", "migrate", "--check", "-v0"))
        times["without"].append(
            site.timed("-m", "django", "migrate", "--check", "-v0", env=without)
        )
    return {k: statistics.median(v) for k, v in times.items()}


def rss(site: Site) -> dict[str, float]:
    with_hd = float(site.json(FIRST)["rss_mb"])
    without = float(site.json(FIRST, env={"WITHOUT_HEALTH_DEEP": "1"})["rss_mb"])
    return {"with": with_hd, "without": without}


def recycling(site: Site, seconds: float) -> dict[str, object]:
    from tests.faults.server import Server, get

    log = site.path / "gunicorn.log"
    server = Server(
        "gunicorn",
        site.env,
        log,
        workers=2,
        threads=1,
        app="coldwsgi:application",
        worker_class="sync",
        extra=("--max-requests", "50"),
        cwd=site.path,
    )
    statuses: dict[int, int] = {}
    failures = 0
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                get(server.port, "/ping/", timeout=10)
            time.sleep(0.02)

    thread = threading.Thread(target=traffic, daemon=True)
    thread.start()
    try:
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            try:
                answer = get(server.port, "/health/", timeout=10)
                statuses[answer.status] = statuses.get(answer.status, 0) + 1
            except OSError:
                failures += 1
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
        server.stop()
    return {
        "statuses": statuses,
        "client errors": failures,
        "workers booted": log.read_text().count("Booting worker"),
    }


Row = tuple[str, str]  # measure, result


def measured(site: Site, runs: int, recycle_seconds: float) -> list[Row]:
    rows: list[Row] = []
    for store, answers in first_probes(site, runs).items():
        statuses = sorted(int(a["status"]) for a in answers)  # type: ignore[call-overload]
        views = ", ".join(str(a["server"]).split("=")[-1] for a in answers)
        words = sorted({w for a in answers for w in a["checks"].values()})  # type: ignore[attr-defined]
        rows.append(
            (f"first probe, {store}", f"{statuses}; view {views} ms; checks {'/'.join(words)}")
        )
    loaded = facts(site, runs)
    rows.append(
        (
            "migration facts + W106 verdict, fresh process",
            f"{loaded['from the store']:.0f} ms from the store, "
            f"{loaded['worked out']:.0f} ms worked out",
        )
    )
    check = migrate_check(site, runs)
    added = (check["with"] / check["without"] - 1) * 100
    rows.append(
        (
            "migrate --check",
            f"{check['with']:.2f} s with health_deep, {check['without']:.2f} s without "
            f"({added:+.0f}%)",
        )
    )
    memory = rss(site)
    rows.append(
        (
            "RSS after the first probe",
            f"{memory['with']:.0f} MB, {memory['without']:.0f} MB with django-health-check's "
            f"view only ({memory['with'] - memory['without']:+.0f} MB)",
        )
    )
    if site.backend == "postgresql":
        run = recycling(site, recycle_seconds)
        rows.append(
            (
                f"recycling, {recycle_seconds:g} s",
                f"answers {run['statuses']}, client errors {run['client errors']}, "
                f"workers booted {run['workers booted']}",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=500)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql", "mariadb"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--recycle-seconds", type=float, default=60)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    if args.markdown:
        print(f"Cold start at {args.models} models (`benchmarks/coldstart.py`):\n")
        print("| backend | measure | result |\n| --- | --- | --- |")
    for backend in args.backends:
        with tempfile.TemporaryDirectory(prefix="hd_coldstart_") as tmp:
            site = Site(Path(tmp), backend)
            try:
                site.build(args.models)
                rows = measured(site, args.runs, args.recycle_seconds)
            except SiteError as exc:
                sys.exit(str(exc))
            finally:
                site.destroy()
        for measure, result in rows:
            line = (
                f"| {backend} | {measure} | {result} |"
                if args.markdown
                else (f"{backend:11} {measure:48} {result}")
            )
            print(line, flush=True)


if __name__ == "__main__":
    main()
