"""The example project under a real server (gunicorn or uvicorn), and a load generator."""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "fault-suite-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def site_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "HEALTH_DEEP_TOKEN": TOKEN,
        "DJANGO_SETTINGS_MODULE": "tests.faults.site_settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "example_project"), str(ROOT)]),
        **extra,
    }


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "django", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )


class Server:
    """``gunicorn`` (WSGI, 2 workers x 8 threads) or ``uvicorn`` (ASGI, 2 workers)."""

    def __init__(
        self,
        kind: str,
        env: dict[str, str],
        log: Path,
        *,
        workers: int = 2,
        threads: int = 8,
        app: str = "example.wsgi:application",
        worker_class: str = "gthread",
        extra: tuple[str, ...] = (),
        cwd: Path | None = None,
    ) -> None:
        self.kind, self.env, self.port = kind, env, free_port()
        bind = f"127.0.0.1:{self.port}"
        if kind == "gunicorn":
            command = [
                sys.executable,
                "-m",
                "gunicorn",
                app,
                "--bind",
                bind,
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--worker-class",
                worker_class,
                "--backlog",
                "2048",
                "--timeout",
                "60",
                *extra,
            ]
        else:
            command = [
                sys.executable,
                "-m",
                "uvicorn",
                "example.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "2",
                "--backlog",
                "2048",
                "--no-access-log",
                "--log-level",
                "warning",
            ]
        self.log = log.open("w")
        self.process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=self.log, stderr=self.log, start_new_session=True
        )
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        stop = time.monotonic() + 30
        while time.monotonic() < stop:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.process.returncode}")
            try:
                if get(self.port, "/health/live/").status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.kind} did not answer within 30 s")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        self.log.close()


@dataclasses.dataclass
class Answer:
    status: int
    seconds: float  # as the caller saw it, queueing in the server included
    body: bytes
    server: float | None = None  # the view's own time, from its Server-Timing header

    @property
    def answered_in(self) -> float:
        return self.seconds if self.server is None else self.server


def _server_seconds(header: str | None) -> float | None:
    if not header or ";dur=" not in header:
        return None
    return float(header.split(";dur=", 1)[1].split(",")[0]) / 1000


def get(
    port: int, path: str, *, headers: dict[str, str] | None = None, timeout: float = 10
) -> Answer:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1", **(headers or {})})
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    return Answer(
        response.status,
        time.monotonic() - started,
        body,
        _server_seconds(response.getheader("Server-Timing")),
    )


@dataclasses.dataclass
class Load:
    statuses: collections.Counter[int]
    errors: collections.Counter[str]
    answers: list[Answer]
    seconds: float

    @property
    def latencies(self) -> list[float]:
        return [a.seconds for a in self.answers]

    @property
    def total(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else 0.0

    @property
    def p99(self) -> float:
        return self.quantile(0.99)


def hammer(
    port: int,
    path: str,
    *,
    total: int,
    concurrency: int,
    headers: dict[str, str] | None = None,
    timeout: float = 20,
) -> Load:
    """``total`` GETs of ``path`` from ``concurrency`` threads on loopback."""
    statuses: collections.Counter[int] = collections.Counter()
    errors: collections.Counter[str] = collections.Counter()
    answers: list[Answer] = []

    def one(_: int) -> None:
        try:
            answer = get(port, path, headers=headers, timeout=timeout)
        except OSError as exc:
            errors[type(exc).__name__] += 1
            return
        statuses[answer.status] += 1
        answers.append(answer)

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(total)))
    return Load(statuses, errors, answers, time.monotonic() - started)
