"""A site with 56 popular third-party packages with models, for the real-world scan.

Left out on purpose, because health_deep's findings on them are true: django-scheduler 0.12
(its Meta.indexes were added with SeparateDatabaseAndState, and on SQLite the old composite
indexes no longer exist: W212), django-summernote 0.8.20 and drf-api-tracking 1.8.4 (their
models have changes no migration records under Django 5.2: W106, as makemigrations says).

The scan runs it in several site configurations, given by environment variables:
``DEFAULT_AUTO_FIELD``, ``LANGUAGE_CODE`` and ``USE_TZ``.
"""

import os

SECRET_KEY = "realworld-scan"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = os.environ.get("USE_TZ", "1") == "1"
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en-us")
DEFAULT_AUTO_FIELD = os.environ.get("DEFAULT_AUTO_FIELD", "django.db.models.BigAutoField")
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["REALWORLD_SQLITE"]}
}
if os.environ.get("REALWORLD_PG"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ["REALWORLD_PG"],
            "USER": "postgres",
            "HOST": "127.0.0.1",
        }
    }
if os.environ.get("REALWORLD_MYSQL"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "NAME": os.environ["REALWORLD_MYSQL"],
            "USER": "root",
            "HOST": "127.0.0.1",
            "OPTIONS": {"charset": "utf8mb4"},
        }
    }
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
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "wagtail.contrib.settings",
    "wagtail.contrib.search_promotions",
    "modelcluster",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "taggit",
    "guardian",
    "django_celery_beat",
    "django_celery_results",
    "reversion",
    "simple_history",
    "oauth2_provider",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "rest_framework.authtoken",
    "easy_thumbnails",
    "filer",
    "polymorphic",
    "mptt",
    "auditlog",
    "constance",
    "waffle",
    "silk",
    "djmoney",
    "cms",
    "menus",
    "treebeard",
    "sekizai",
    # An e-commerce framework with forkable apps and translations of its own (django-oscar).
    "oscar.config.Shop",
    "oscar.apps.analytics.apps.AnalyticsConfig",
    "oscar.apps.checkout.apps.CheckoutConfig",
    "oscar.apps.address.apps.AddressConfig",
    "oscar.apps.shipping.apps.ShippingConfig",
    "oscar.apps.catalogue.apps.CatalogueConfig",
    "oscar.apps.catalogue.reviews.apps.CatalogueReviewsConfig",
    "oscar.apps.communication.apps.CommunicationConfig",
    "oscar.apps.partner.apps.PartnerConfig",
    "oscar.apps.basket.apps.BasketConfig",
    "oscar.apps.payment.apps.PaymentConfig",
    "oscar.apps.offer.apps.OfferConfig",
    "oscar.apps.order.apps.OrderConfig",
    "oscar.apps.customer.apps.CustomerConfig",
    "oscar.apps.search.apps.SearchConfig",
    "oscar.apps.voucher.apps.VoucherConfig",
    "oscar.apps.wishlists.apps.WishlistsConfig",
    "oscar.apps.dashboard.apps.DashboardConfig",
    "oscar.apps.dashboard.reports.apps.ReportsDashboardConfig",
    "oscar.apps.dashboard.users.apps.UsersDashboardConfig",
    "oscar.apps.dashboard.orders.apps.OrdersDashboardConfig",
    "oscar.apps.dashboard.catalogue.apps.CatalogueDashboardConfig",
    "oscar.apps.dashboard.offers.apps.OffersDashboardConfig",
    "oscar.apps.dashboard.partners.apps.PartnersDashboardConfig",
    "oscar.apps.dashboard.pages.apps.PagesDashboardConfig",
    "oscar.apps.dashboard.ranges.apps.RangesDashboardConfig",
    "oscar.apps.dashboard.reviews.apps.ReviewsDashboardConfig",
    "oscar.apps.dashboard.vouchers.apps.VouchersDashboardConfig",
    "oscar.apps.dashboard.communications.apps.CommunicationsDashboardConfig",
    "oscar.apps.dashboard.shipping.apps.ShippingDashboardConfig",
    "widget_tweaks",
    "haystack",
    "django_tables2",
    "post_office",
    "actstream",
    "django_comments",
    "django_comments_xtd",
    "organizations",
    "invitations",
    "user_sessions",
    "django_q",
    "robots",
    "flags",
    "watson",
    "easyaudit",
    "push_notifications",
    "captcha",
    "dynamic_preferences",
    "dynamic_preferences.users",
    "admin_interface",
    "colorfield",
    "rest_framework_simplejwt.token_blacklist",
    "knox",
    "rest_framework_api_key",
    "social_django",
    "two_factor",
    "pgtrigger",
    "pghistory",
    "django_rest_passwordreset",
    "django_otp_webauthn",
    "cookie_consent",
    "impersonate",
    "sortedm2m",
    "photologue",
    "two_factor.plugins.phonenumber",
    "django_otp.plugins.otp_email",
    "django_otp.plugins.otp_hotp",
    "djangocms_text",
    "djangocms_link",
    "django_mailbox",
    "mailer",
    "django_dramatiq",
    "django_db_logger",
    "defender",
    "request",
    "wagtail_localize",
    "wagtail.locales",
    "djstripe",
    "health_check",
    "health_deep",
]
DRAMATIQ_BROKER = {"BROKER": "dramatiq.brokers.stub.StubBroker", "OPTIONS": {}, "MIDDLEWARE": []}
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
STRIPE_LIVE_MODE = False
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = [
    ("en", "English"),
    ("de", "German"),
    ("fr", "French"),
    ("ja", "Japanese"),
]
HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}
Q_CLUSTER = {"name": "realworld", "orm": "default"}
COMMENTS_APP = "django_comments_xtd"
COMMENTS_XTD_SALT = b"realworld-scan"
OTP_WEBAUTHN_RP_ID = "localhost"
OTP_WEBAUTHN_RP_NAME = "realworld"
OTP_WEBAUTHN_ALLOWED_ORIGINS = ["https://localhost"]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]
ROOT_URLCONF = os.environ.get("REALWORLD_URLCONF", "tests.realworld.urls")
SITE_ID = 1
STATIC_URL = "/static/"
WAGTAIL_SITE_NAME = "realworld"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sekizai.context_processors.sekizai",
                "cms.context_processors.cms_settings",
            ]
        },
    }
]
LANGUAGES = [("en", "English"), ("de", "German"), ("fr", "French"), ("ja", "Japanese")]
CMS_TEMPLATES = [("base.html", "Base")]
SILENCED_SYSTEM_CHECKS = ["*"]  # third-party configuration advice is not what we test

from oscar.defaults import *  # noqa: E402, F403  (Oscar reads its settings at import time)
