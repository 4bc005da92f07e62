"""The real-world scan's apps with their own URLconfs mounted, for the recorded-coverage
measurement (benchmarks/recorded_coverage.py): each app's URLs under a prefix of its own; an
app whose URLconf cannot be imported on this bare site is left out (and said so on stderr)."""

import importlib
import sys

from django.apps import apps
from django.urls import include, path

APPS = {
    "accounts/": "allauth.urls",
    "o/": "oauth2_provider.urls",
    "silk/": "silk.urls",
    "filer/": "filer.urls",
    "wagtail-admin/": "wagtail.admin.urls",
    "documents/": "wagtail.documents.urls",
    "waffle/": "waffle.urls",
    "activity/": "actstream.urls",
    "comments/": "django_comments_xtd.urls",
    "organizations/": "organizations.urls",
    "invitations/": "invitations.urls",
    "sessions/": "user_sessions.urls",
    "robots/": "robots.urls",
    "captcha/": "captcha.urls",
    "api-auth/": "rest_framework.urls",
    "knox/": "knox.urls",
    "social/": "social_django.urls",
    "two-factor/": "two_factor.urls",
    "webauthn/": "django_otp_webauthn.urls",
    "cookies/": "cookie_consent.urls",
    "impersonate/": "impersonate.urls",
    "photologue/": "photologue.urls",
    "password-reset/": "django_rest_passwordreset.urls",
    "stripe/": "djstripe.urls",
    "pages-flat/": "django.contrib.flatpages.urls",
}

urlpatterns = [path("health/", include("health_deep.urls"))]
for prefix, module in APPS.items():
    try:
        found = importlib.import_module(module)
        # Some apps' urlpatterns are a (patterns, app_name) pair, to be included as such.
        target = found.urlpatterns if isinstance(found.urlpatterns, tuple) else module
        urlpatterns.append(path(prefix, include(target)))
    except Exception as exc:  # an app that needs more of a site than this one has
        print(f"urls_apps: left out {module}: {type(exc).__name__}: {exc}", file=sys.stderr)
try:
    urlpatterns.append(path("shop/", include(apps.get_app_config("oscar").urls[0])))
except Exception as exc:
    print(f"urls_apps: left out oscar: {type(exc).__name__}: {exc}", file=sys.stderr)
