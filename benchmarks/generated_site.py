"""A generated site of many models with health_deep's default settings, built in a folder on a
database of its own: what ``coldstart.py`` measures and ``tests/faults/test_cold_start.py``
serves with real gunicorn workers.

The models are ``scale.py``'s, in foreign-key chains of ten (one chain through 500 models makes
``migrate`` take minutes), one row each; ``migrate`` leaves the release's code facts in the
site's own store (``CODE_FACTS_DIR``). ``WITHOUT_HEALTH_DEEP=1`` in a run's environment gives
the same site with only django-health-check's database view; ``HEALTH_DEEP_TOKEN`` in it sets
the token.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale

ROOT = Path(__file__).resolve().parent.parent

SETTINGS = (
    """
import os
SECRET_KEY = "generated-site"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
WITH = os.environ.get("WITHOUT_HEALTH_DEEP") != "1"
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "health_check",
                  *(["health_deep"] if WITH else []), "genapp"]
ROOT_URLCONF = "coldurls" if WITH else "plainurls"
HEALTH_DEEP = {"CODE_FACTS_DIR": os.environ["CODE_FACTS_DIR"]}  # otherwise the defaults
if os.environ.get("HEALTH_DEEP_TOKEN"):
    HEALTH_DEEP["TOKEN"] = os.environ["HEALTH_DEEP_TOKEN"]
"""
    + scale.DATABASES_SETTINGS
)

URLS = """
from django.http import HttpResponse
from django.urls import include, path
urlpatterns = [path("health/", include("health_deep.urls")),
               path("ping/", lambda request: HttpResponse("pong")),
               path("", include("genapp.urls"))]
"""

PLAIN_URLS = """
from django.urls import include, path
from health_check.views import HealthCheckView
urlpatterns = [path("health/", HealthCheckView.as_view(checks=["health_check.checks.Database"])),
               path("", include("genapp.urls"))]
"""

WSGI = "import django.core.wsgi\napplication = django.core.wsgi.get_wsgi_application()\n"


class SiteError(RuntimeError):
    """A command run on the generated site failed; its output is the message."""


class GeneratedSite:
    """The site in ``path`` on ``backend`` (sqlite, postgresql or mariadb); ``env`` is the
    environment its commands run in, before the site's own variables."""

    def __init__(self, path: Path, backend: str, *, env: dict[str, str] | None = None) -> None:
        self.path, self.backend = path, backend
        self.database = f"hd_cold_{uuid.uuid4().hex[:10]}"
        url = {
            "postgresql": self.database,
            "mariadb": f"mysql:{self.database}",
        }.get(backend, f"sqlite:{path / 'site.sqlite3'}")
        self.env = {
            **(os.environ if env is None else env),
            "DJANGO_SETTINGS_MODULE": "coldsite",
            "BENCH_DB": url,
            "CODE_FACTS_DIR": str(path / "facts"),
            "PYTHONPATH": os.pathsep.join([str(path), str(ROOT)]),
        }

    def build(self, models: int) -> None:
        """Write the site, create its database, migrate it and put one row in each table."""
        for name, text in [
            ("coldsite.py", SETTINGS),
            ("coldurls.py", URLS),
            ("plainurls.py", PLAIN_URLS),
            ("coldwsgi.py", WSGI),
        ]:
            (self.path / name).write_text(text)
        (self.path / "genapp" / "migrations").mkdir(parents=True)
        (self.path / "genapp" / "__init__.py").write_text("")
        (self.path / "genapp" / "migrations" / "__init__.py").write_text("")
        (self.path / "genapp" / "models.py").write_text(scale.model_source(models, chain=10))
        (self.path / "genapp" / "urls.py").write_text(scale.views_source(models, chain=10))
        if self.backend == "postgresql":
            scale._pg(f'CREATE DATABASE "{self.database}"')
        elif self.backend == "mariadb":
            scale._mysql(f"CREATE DATABASE `{self.database}`")
        self.run("-m", "django", "makemigrations", "genapp", "-v0")
        self.run("-m", "django", "migrate", "-v0")  # leaves the code facts in the store
        self.run("-c", scale.SEED, str(models))

    def destroy(self) -> None:
        if self.backend == "postgresql":
            scale._pg(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        elif self.backend == "mariadb":
            scale._mysql(f"DROP DATABASE IF EXISTS `{self.database}`")

    def run(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
        """``python args`` in the site (``env`` on top of its own); what it printed.
        :class:`SiteError` when it fails and ``check``."""
        result = subprocess.run(
            [sys.executable, *args],
            cwd=self.path,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if check and result.returncode:
            raise SiteError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def json(self, script: str, env: dict[str, str] | None = None) -> Any:
        """What ``python -c script`` printed last, as JSON."""
        return json.loads(self.run("-c", script, env=env).strip().splitlines()[-1])
