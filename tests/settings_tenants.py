"""A django-tenants site (PostgreSQL only): ``customers`` shared in ``public``, ``notes`` in
every tenant's schema. ``HEALTH_DEEP_TENANTS_DB`` names its database."""

import os

SECRET_KEY = "tests-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ROOT_URLCONF = "tests.tenancy.urls"
PUBLIC_SCHEMA_URLCONF = "tests.tenancy.urls"

DATABASES = {
    "default": {
        "ENGINE": "django_tenants.postgresql_backend",
        "NAME": os.environ["HEALTH_DEEP_TENANTS_DB"],
        "USER": os.environ.get("PGUSER", "postgres"),
        "PASSWORD": os.environ.get("PGPASSWORD", ""),
        "HOST": os.environ.get("PGHOST", "127.0.0.1"),
        "PORT": os.environ.get("PGPORT", "5432"),
    }
}
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]

SHARED_APPS = [
    "django_tenants",
    "tests.tenancy.customers",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "health_check",
    "health_deep",
]
TENANT_APPS = ["django.contrib.contenttypes", "tests.tenancy.notes", "tests.tenancy.ledger"]
INSTALLED_APPS = list(SHARED_APPS) + [a for a in TENANT_APPS if a not in SHARED_APPS]
TENANT_MODEL = "customers.Client"
TENANT_DOMAIN_MODEL = "customers.Domain"

MIDDLEWARE = ["django_tenants.middleware.main.TenantMainMiddleware"]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {},
    }
]
HEALTH_DEEP = {"CODE_FACTS_DIR": False}
