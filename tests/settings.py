"""Test settings. ``HEALTH_DEEP_TEST_DB`` picks the backend: sqlite (default), postgres or
mariadb."""

from __future__ import annotations

import os
import uuid

BACKEND = os.environ.get("HEALTH_DEEP_TEST_DB", "sqlite")
# The servers are shared: each run gets its own test database, so two runs never collide.
RUN = os.environ.setdefault("HEALTH_DEEP_TEST_RUN", uuid.uuid4().hex[:8])

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if BACKEND == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
            "USER": os.environ.get("PGUSER", "postgres"),
            "PASSWORD": os.environ.get("PGPASSWORD", ""),
            "NAME": "test",
            "OPTIONS": {"connect_timeout": 3},
            "TEST": {"NAME": f"test_health_deep_{RUN}"},
        }
    }
elif BACKEND == "mariadb":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "HOST": os.environ.get("MYSQL_HOST", "127.0.0.1"),
            "PORT": os.environ.get("MYSQL_PORT", "3306"),
            "USER": os.environ.get("MYSQL_USER", "root"),
            "PASSWORD": os.environ.get("MYSQL_PASSWORD", ""),
            "NAME": "test",
            "OPTIONS": {"charset": "utf8mb4", "connect_timeout": 3},
            "TEST": {"NAME": f"test_health_deep_{RUN}", "CHARSET": "utf8mb4"},
        }
    }
    # The zoo declares what MariaDB cannot build, on purpose (health_deep must not expect it);
    # Django 6.1 reports those models without --database too.
    SILENCED_SYSTEM_CHECKS = ["models.W036", "models.W037", "models.W043", "models.W044"]
elif BACKEND == "sqlite":
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
else:
    raise RuntimeError(f"HEALTH_DEEP_TEST_DB must be sqlite, postgres or mariadb, not {BACKEND!r}")

# A second database that a router gives one app to: checks must follow the router.
DATABASES["other"] = {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": ":memory:",
    "TEST": {"NAME": "file:other?mode=memory&cache=shared"},
}
DATABASE_ROUTERS = ["tests.routers.OtherRouter"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.flatpages",
    "django.contrib.redirects",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "health_check",
    "health_deep",
    "tests.testapp",
    "tests.zoo",
    "tests.zoo_other",
    "tests.smokeapp",
    "tests.scopesapp",
    "rest_framework",
]
if BACKEND == "postgres":
    INSTALLED_APPS += ["django.contrib.postgres", "tests.zoo_pg"]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "tests.urls"
SITE_ID = 1
STATIC_URL = "/static/"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
