"""Replay the outage that health_deep exists for, end to end, on a throwaway copy of this site.

    python example_project/incident.py                      # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432 python example_project/incident.py
    DATABASE_URL=mysql://root@127.0.0.1:3306 python example_project/incident.py

On a database server, the replay makes a database of its own (``health_deep_incident_...``)
and drops it afterwards: a path in the URL is ignored, and nothing needs creating first.

1. Deploy: migrate, add one real row, serve. /health/ says 200, the API works.
2. Someone runs Black over an applied migration: /health/ still says 200 (no false alarm).
3. Someone *edits* the applied migration to add a column, and the model with it. The
   lockfile check names the edit in review; if it ships anyway, `migrate` says there is
   nothing to do, so the column never reaches the database. The API fails, and /health/
   answers 503 naming the edited migration and the missing column.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOKEN = "incident-demo-token-0123456789"
MIGRATION = Path("integrations/migrations/0002_integration_settings.py")

REFORMATTED = """\
# Reformatted by a code formatter: double quotes, one argument per line, a comment.
from django.db import models, migrations


class Migration(migrations.Migration):
    dependencies = [("integrations", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="integration",
            name="settings",
            field=models.TextField(default="", blank=True),  # free-form settings
        ),
    ]
"""


def commit(site: Path, message: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "demo",
        "GIT_AUTHOR_EMAIL": "demo@example.com",
        "GIT_COMMITTER_NAME": "demo",
        "GIT_COMMITTER_EMAIL": "demo@example.com",
    }
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", message]):
        subprocess.run(["git", *args], cwd=site, env=env, check=True, capture_output=True)


def say(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def manage(site: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "HEALTH_DEEP_TOKEN": TOKEN,
        "DJANGO_SETTINGS_MODULE": "example.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and result.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(site: Path) -> Iterator[str]:
    """Run the site under runserver (a fresh process, as a deploy would) until the block ends."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "HEALTH_DEEP_TOKEN": TOKEN,
        "DJANGO_SETTINGS_MODULE": "example.settings",
    }
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=site,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def get(url: str, *, token: bool = False) -> tuple[int, str]:
    headers = {"Accept": "text/plain"}
    if token:
        headers["X-Health-Token"] = TOKEN
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        body = err.read().decode(errors="replace")
        return err.code, body[:300] if err.code == 500 else body


def probe(base: str) -> None:
    status, _ = get(f"{base}/api/integrations/")
    print(f"GET /api/integrations/  -> {status}")
    status, body = get(f"{base}/health/")
    print(f"GET /health/            -> {status}   (anonymous: status only)")
    print("    " + body.strip().replace("\n", "\n    "))


@contextlib.contextmanager
def throwaway_database(url: str) -> Iterator[str]:
    """The URL of a database made for this replay on the server ``url`` names, dropped after
    (SQLite URLs are used as they are)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "mysql"):
        yield url
        return
    name = f"health_deep_incident_{uuid.uuid4().hex[:8]}"
    server = dict(host=parts.hostname or "127.0.0.1", user=parts.username or "")
    if parts.scheme == "mysql":
        import MySQLdb

        admin = MySQLdb.connect(port=parts.port or 3306, passwd=parts.password or "", **server)
        admin.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        drop = f"DROP DATABASE IF EXISTS `{name}`"
    else:
        import psycopg

        admin = psycopg.connect(
            port=parts.port or 5432,
            password=parts.password or None,
            dbname="postgres",
            autocommit=True,
            **server,
        )
        admin.execute(f'CREATE DATABASE "{name}"')
        drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    try:
        yield urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        admin.cursor().execute(drop)
        admin.close()


def main() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="health_deep_incident_") as tmp,
        throwaway_database(
            os.environ.get("DATABASE_URL") or f"sqlite:///{Path(tmp) / 'incident.sqlite3'}"
        ) as database_url,
    ):
        site = Path(tmp) / "site"
        shutil.copytree(HERE, site, ignore=shutil.ignore_patterns("*.sqlite3", "__pycache__"))
        os.environ["DATABASE_URL"] = database_url
        print(f"A copy of the example site in {site}, database {os.environ['DATABASE_URL']}")

        git = shutil.which("git") is not None
        if git:  # the lockfile shows the previous version of a migration through git
            commit(site, "the site, with its migration lockfile")

        say("1. Deploy: migrate, and production has a real row")
        print(manage(site, "migrate", "--noinput").stdout.strip().splitlines()[-1])
        manage(
            site,
            "shell",
            "-c",
            "from integrations.models import Integration; "
            "Integration.objects.create(name='billing', base_url='https://billing.example')",
        )
        with serving(site) as base:
            probe(base)

        say("2. A formatter rewrites the applied migration (quotes, layout, a comment)")
        (site / MIGRATION).write_text(REFORMATTED)
        with serving(site) as base:
            probe(base)

        say(
            "3. An engineer adds a field to the applied migration (and the model) instead of "
            "writing 0003"
        )
        migration = site / MIGRATION
        migration.write_text(
            migration.read_text().replace(
                "        ),\n    ]",
                (
                    "        ),\n        migrations.AddField(\n"
                    '            model_name="integration",\n'
                    '            name="timeout_seconds",\n'
                    "            field=models.PositiveIntegerField(default=30),\n        ),\n    ]"
                ),
            )
        )
        models_py = site / "integrations/models.py"
        models_py.write_text(
            models_py.read_text().replace(
                '    settings = models.TextField(blank=True, default="")\n',
                '    settings = models.TextField(blank=True, default="")\n'
                "    timeout_seconds = models.PositiveIntegerField(default=30)\n",
            )
        )
        result = manage(site, "health_deep", "lock", "--check", check=False)
        print(
            f"$ manage.py health_deep lock --check   (in review, before any deploy: "
            f"exit {result.returncode})"
        )
        print("    " + result.stdout.strip().replace("\n", "\n    "))
        print(
            "$ manage.py migrate  ->",
            manage(site, "migrate", "--noinput").stdout.strip().splitlines()[-1].strip(),
        )
        with serving(site) as base:
            probe(base)
            status, body = get(f"{base}/health/", token=True)
            print(f"GET /health/ with X-Health-Token -> {status}")
            print("    " + body.strip().replace("\n", "\n    "))

        say("The same check in CI/CD, before traffic moves: manage.py health_deep")
        result = manage(site, "health_deep", check=False)
        print(result.stdout.strip())
        print(f"exit code {result.returncode}")


if __name__ == "__main__":
    main()
