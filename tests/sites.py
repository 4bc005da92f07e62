"""A throwaway copy of the example project, driven through real manage.py processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BACKEND = os.environ.get("HEALTH_DEEP_TEST_DB", "sqlite")
TOKEN = "incident-test-token-0123456789"
PROBE = """
import json, os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example.settings")
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
out = {}
for url in sys.argv[1:]:
    r = client.get(url, HTTP_ACCEPT="application/json", HTTP_X_HEALTH_TOKEN=os.environ["TOKEN"])
    out[url] = [r.status_code, r.content.decode()]
print(json.dumps(out))
"""


class Site:
    """A throwaway copy of the example project with its own database."""

    def __init__(self, path: Path, database_url: str) -> None:
        self.path = path
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "PYTHONDONTWRITEBYTECODE": "1",
            "HEALTH_DEEP_TOKEN": TOKEN,
            "TOKEN": TOKEN,
            "DJANGO_SETTINGS_MODULE": "example.settings",
        }

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.manage_with({}, *args)

    def manage_with(self, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        """``manage.py`` with ``env`` over the site's environment."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.path,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )

    def migrate(self, *args: str) -> str:
        result = self.manage("migrate", "--noinput", *args)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def report(self, *checks: str) -> tuple[int, dict[str, Any]]:
        only = [arg for check in checks for arg in ("--check", check)]
        result = self.manage("health_deep", "--format", "json", *only)
        return result.returncode, json.loads(result.stdout)

    def get(self, *urls: str) -> dict[str, tuple[int, Any]]:
        result = subprocess.run(
            [sys.executable, "-c", PROBE, *urls],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout.strip().splitlines()[-1])
        return {url: (status, _maybe_json(body)) for url, (status, body) in out.items()}

    def edit(self, relative: Path | str, old: str, new: str) -> None:
        path = self.path / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new))


def _maybe_json(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body


def ids(report: dict[str, Any], severity: str = "critical") -> list[str]:
    return sorted(f["id"] for f in report["findings"] if f["severity"] == severity)


def commit_all(path: Path, message: str = "snapshot") -> None:
    """Make ``path`` a git repository (if needed) and commit everything in it."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    if not (path / ".git").exists():
        subprocess.run(["git", "init", "-q"], cwd=path, check=True, env=env)
    subprocess.run(["git", "add", "-A"], cwd=path, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", message], cwd=path, check=True, env=env)
