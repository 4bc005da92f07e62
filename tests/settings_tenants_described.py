"""The django-tenants site's database read by a site that does not use django-tenants:
its schema-per-tenant scheme described by ``HEALTH_DEEP['TENANTS']`` (the tenants' schemas
from an SQL query, the tenant apps listed), with no router and no tenant middleware."""

from tests.settings_tenants import *  # noqa: F403
from tests.settings_tenants import DATABASES, SHARED_APPS, TENANT_APPS

DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
DATABASE_ROUTERS: list[str] = []
MIDDLEWARE: list[str] = []
INSTALLED_APPS = [a for a in SHARED_APPS if a != "django_tenants"] + [
    a for a in TENANT_APPS if a not in SHARED_APPS
]
HEALTH_DEEP = {
    "CODE_FACTS_DIR": False,
    "TENANTS": {
        "APPS": TENANT_APPS,
        "SHARED_APPS": [a for a in SHARED_APPS if a != "django_tenants"],
        "SCHEMAS_SQL": "SELECT schema_name FROM customers_client",
    },
}
