"""The README's first command on a fresh machine: `make run` serves /health/ on SQLite with
nothing that compiles (no C compiler, no MariaDB headers needed)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.faults.server import free_port, get

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]


def test_make_run_serves_health_with_binary_wheels_only(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    shutil.copytree(
        ROOT,
        checkout,
        ignore=shutil.ignore_patterns(
            ".venv*",
            ".git",
            "__pycache__",
            "*.sqlite3",
            "site",
            ".pytest_cache",
            ".mypy_cache",
            ".ruff_cache",
        ),
    )
    port = free_port()
    # PIP_ONLY_BINARY makes any package that would compile fail the install, as it would on a
    # machine without a compiler or headers.
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "PIP_ONLY_BINARY": ":all:",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    log = (tmp_path / "make-run.log").open("w")
    process = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=checkout,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        status, stop = None, time.monotonic() + 240
        while time.monotonic() < stop and process.poll() is None:
            try:
                status = get(port, "/health/", timeout=5).status
                break
            except OSError:
                time.sleep(1)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(15)
        log.close()

    assert status == 200, (tmp_path / "make-run.log").read_text()[-3000:]
