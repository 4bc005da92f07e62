"""A site with 26 popular third-party apps (about 250 models), for the real-world scan."""

import os

SECRET_KEY = "realworld-scan"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
DEFAULT_AUTO_FIELD = os.environ.get("DEFAULT_AUTO_FIELD", "django.db.models.BigAutoField")
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                         "NAME": os.environ["REALWORLD_SQLITE"]}}
if os.environ.get("REALWORLD_PG"):
    DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql",
                             "NAME": os.environ["REALWORLD_PG"], "USER": "postgres",
                             "HOST": "127.0.0.1"}}
if os.environ.get("REALWORLD_MYSQL"):
    DATABASES = {"default": {"ENGINE": "django.db.backends.mysql",
                             "NAME": os.environ["REALWORLD_MYSQL"], "USER": "root",
                             "HOST": "127.0.0.1", "OPTIONS": {"charset": "utf8mb4"}}}
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
    "django.contrib.sites", "django.contrib.flatpages", "django.contrib.redirects",
    "django.contrib.sitemaps",
    "wagtail.contrib.forms", "wagtail.contrib.redirects", "wagtail.embeds", "wagtail.sites",
    "wagtail.users", "wagtail.snippets", "wagtail.documents", "wagtail.images",
    "wagtail.search", "wagtail.admin", "wagtail", "wagtail.contrib.settings",
    "wagtail.contrib.search_promotions", "modelcluster",
    "allauth", "allauth.account", "allauth.socialaccount",
    "taggit", "guardian", "django_celery_beat", "django_celery_results", "reversion",
    "simple_history", "oauth2_provider", "axes", "django_otp", "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static", "rest_framework", "rest_framework.authtoken",
    "easy_thumbnails", "filer", "polymorphic", "mptt", "auditlog", "constance", "waffle",
    "silk", "djmoney", "cms", "menus", "treebeard", "sekizai",
    "health_check", "health_deep",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]
ROOT_URLCONF = "tests.realworld.urls"
SITE_ID = 1
STATIC_URL = "/static/"
WAGTAIL_SITE_NAME = "realworld"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
        "sekizai.context_processors.sekizai",
        "cms.context_processors.cms_settings",
    ]},
}]
LANGUAGES = [("en", "English")]
CMS_TEMPLATES = [("base.html", "Base")]
SILENCED_SYSTEM_CHECKS = ["*"]  # third-party configuration advice is not what we test
