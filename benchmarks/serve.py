"""Requests per second under real servers: a trivial view beside health_deep's probes.

    python benchmarks/serve.py                 # gunicorn and uvicorn; wrk if installed
    python benchmarks/serve.py --seconds 5 --rounds 5 --markdown

The example project on SQLite, served by gunicorn (gthread, 2 workers x 8 threads) and by
uvicorn (2 workers), the same settings for every URL; ``/trivial/`` returns
``HttpResponse("ok")``. Each URL is loaded for a few seconds by ``wrk`` (or, without it, a
Python client, which competes harder for the CPU and compresses the ratios), after a warm-up
that fills the probe cache. Then the same with fleet sharing on a real Redis
(``CACHE_ALIAS``): requests per second and median latency beside the local cache. Not a test.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults.server import Server, get, hammer, manage, site_env  # noqa: E402

URLS = """
from django.http import HttpResponse
from django.urls import path
from example.urls import urlpatterns as site

urlpatterns = [path("trivial/", lambda request: HttpResponse("ok")), *site]
"""
SETTINGS = """
from tests.faults.site_settings import *  # noqa: F403
ROOT_URLCONF = "benchserve_urls"
"""
PATHS = ("/trivial/", "/health/live/", "/health/ready/")


def load(port: int, path: str, seconds: float) -> tuple[float, float]:
    """Requests per second and median latency (ms) of ``path``."""
    if shutil.which("wrk"):
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                "-c32",
                f"-d{seconds:g}s",
                "--latency",
                f"http://127.0.0.1:{port}{path}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
        assert p50 is not None, out
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p50.group(2)]
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        assert errors is None, f"{path}: {errors.group(0)}"
        return rps, float(p50.group(1)) * scale
    total = int(seconds * 300)
    result = hammer(port, path, total=total, concurrency=32)
    assert set(result.statuses) == {200}, result.statuses
    return result.total / result.seconds, result.p50 * 1000


def served(port: int, path: str, count: int = 200) -> float | None:
    """Median time inside the view (its Server-Timing header), one request at a time: the
    probe's own cost, without the queueing a load adds."""
    times = [get(port, path).server for _ in range(count)]
    known = sorted(t for t in times if t is not None)
    return known[len(known) // 2] * 1000 if known else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3, help="per URL and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    rows: list[tuple[str, str, float, float, float, float | None]] = []
    with tempfile.TemporaryDirectory(prefix="hd_serve_") as tmp:
        folder = Path(tmp)
        (folder / "benchserve_urls.py").write_text(URLS)
        (folder / "benchserve_settings.py").write_text(SETTINGS)
        env = site_env(f"sqlite:///{folder / 'site.sqlite3'}", FAULT_CACHE_TTL="60")
        env["PYTHONPATH"] = os.pathsep.join([str(folder), env["PYTHONPATH"]])
        env["DJANGO_SETTINGS_MODULE"] = "benchserve_settings"
        manage(env, "migrate", "--noinput")
        prefix = f"hd-bench-{uuid.uuid4().hex[:8]}"
        setups = [
            ("gunicorn", "local cache", env),
            ("uvicorn", "local cache", env),
            (
                "gunicorn",
                "Redis (CACHE_ALIAS)",
                {
                    **env,
                    "FAULT_REDIS_URL": "redis://127.0.0.1:6379/11",
                    "FAULT_REDIS_PREFIX": prefix,
                },
            ),
        ]
        for kind, cache, server_env in setups:
            server = Server(kind, server_env, folder / f"{kind}.log")
            try:
                for path in PATHS:
                    for _ in range(20):  # fill the probe cache in every worker
                        assert get(server.port, path).status == 200
                # Interleaved rounds, the median of each URL: the host's speed drifts (shared
                # machines), and URLs measured in turn drift together.
                paths = PATHS if cache == "local cache" else PATHS[1:]
                rounds: dict[str, list[tuple[float, float]]] = {path: [] for path in paths}
                for _ in range(args.rounds):
                    for path in paths:
                        rounds[path].append(load(server.port, path, args.seconds))
                trivial = statistics.median(r for r, _ in rounds[paths[0]])
                for path in paths:
                    rps = statistics.median(r for r, _ in rounds[path])
                    p50 = statistics.median(p for _, p in rounds[path])
                    ratio = rps / trivial if cache == "local cache" else float("nan")
                    rows.append(
                        (f"{kind} {path}", cache, rps, p50, ratio, served(server.port, path))
                    )
            finally:
                server.stop()
    client = (
        "wrk -t2 -c32, a new connection per request"
        if shutil.which("wrk")
        else "Python client, 32 threads, a new connection per request"
    )
    if args.markdown:
        print(
            f"Load: {client}, {args.rounds} interleaved rounds of {args.seconds:g} s per URL "
            "(medians), on the same host.\n"
        )
        print(
            "| server and URL | probe cache | requests/s | median latency ms under load "
            "| x trivial | time in the view, ms (one at a time) |"
        )
        print("| --- | --- | --- | --- | --- | --- |")
        for name, cache, rps, p50, ratio, view in rows:
            shown = "-" if ratio != ratio else f"{ratio:.2f}x"  # NaN: no trivial view beside it
            inside = "-" if view is None else f"{view:.3f}"
            print(f"| {name} | {cache} | {rps:.0f} | {p50:.2f} | {shown} | {inside} |")
    else:
        for name, cache, rps, p50, ratio, view in rows:
            inside = "" if view is None else f"  view {view:.3f} ms"
            print(
                f"{name:32} {cache:22} {rps:9.0f} req/s  p50 {p50:7.2f} ms  {ratio:5.2f}x{inside}"
            )


if __name__ == "__main__":
    main()
