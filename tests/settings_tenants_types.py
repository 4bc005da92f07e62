"""A django-tenants site with tenant types (``HAS_MULTI_TYPE_TENANTS``): ``shop`` tenants'
schemas hold ``notes`` and the 19-table ``ledger``, ``blog`` tenants' only ``notes``; the
tenants and their domains (``typed``) are shared in ``public``. ``HEALTH_DEEP_TENANTS_DB``
names its database."""

from tests.settings_tenants import *  # noqa: F403

HAS_MULTI_TYPE_TENANTS = True
MULTI_TYPE_DATABASE_FIELD = "kind"
TENANT_TYPES = {
    "public": {
        "APPS": [
            "django_tenants",
            "tests.tenancy.typed",
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "health_check",
            "health_deep",
        ],
        "URLCONF": "tests.tenancy.urls",
    },
    "shop": {
        "APPS": ["django.contrib.contenttypes", "tests.tenancy.notes", "tests.tenancy.ledger"],
        "URLCONF": "tests.tenancy.urls",
    },
    "blog": {
        "APPS": ["django.contrib.contenttypes", "tests.tenancy.notes"],
        "URLCONF": "tests.tenancy.urls",
    },
}
SHARED_APPS = TENANT_TYPES["public"]["APPS"]
TENANT_APPS = ["django.contrib.contenttypes", "tests.tenancy.notes", "tests.tenancy.ledger"]
INSTALLED_APPS = list(dict.fromkeys(app for kind in TENANT_TYPES.values() for app in kind["APPS"]))
TENANT_MODEL = "typed.Shop"
TENANT_DOMAIN_MODEL = "typed.Address"
