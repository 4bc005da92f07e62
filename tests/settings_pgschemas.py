"""A django-pgschemas site (PostgreSQL only): the tenants and their domains in ``public``;
a static tenant ``www`` with the ``ledger`` app; dynamic tenants (rows of ``clients.Tenant``)
with the ``notes`` app. ``HEALTH_DEEP_TENANTS_DB`` names its database."""

import os

SECRET_KEY = "tests-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ROOT_URLCONF = "tests.pgtenancy.urls_public"

DATABASES = {
    "default": {
        "ENGINE": "django_pgschemas.postgresql",
        "NAME": os.environ["HEALTH_DEEP_TENANTS_DB"],
        "USER": os.environ.get("PGUSER", "postgres"),
        "PASSWORD": os.environ.get("PGPASSWORD", ""),
        "HOST": os.environ.get("PGHOST", "127.0.0.1"),
        "PORT": os.environ.get("PGPORT", "5432"),
    }
}
DATABASE_ROUTERS = ["django_pgschemas.routers.TenantAppsRouter"]

TENANTS = {
    "public": {
        "APPS": [
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.sessions",
            "django_pgschemas",
            "tests.pgtenancy.clients",
            "health_check",
            "health_deep",
        ],
    },
    "www": {
        "APPS": ["tests.tenancy.ledger"],
        "DOMAINS": ["main.localhost"],  # django-pgschemas drops a leading "www."
        "URLCONF": "tests.pgtenancy.urls_www",
    },
    "default": {
        "TENANT_MODEL": "clients.Tenant",
        "DOMAIN_MODEL": "clients.Domain",
        "APPS": ["tests.tenancy.notes"],
        "URLCONF": "tests.tenancy.urls",
    },
}
INSTALLED_APPS = [
    *TENANTS["public"]["APPS"],
    "tests.tenancy.ledger",
    "tests.tenancy.notes",
]
MIDDLEWARE = ["django_pgschemas.routing.middleware.DomainRoutingMiddleware"]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {},
    }
]
HEALTH_DEEP = {"CODE_FACTS_DIR": False}
