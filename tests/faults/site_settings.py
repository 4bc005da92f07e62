"""The example project as the fault suite serves it: its own settings plus what the faults
need, driven by environment variables so one module serves every scenario."""

import os

from example.settings import *  # noqa: F403

HEALTH_DEEP = {
    "TOKEN": os.environ["HEALTH_DEEP_TOKEN"],
    "CACHE_TTL": float(os.environ.get("FAULT_CACHE_TTL", "5")),
}
if os.environ.get("FAULT_SLOW_SMOKE"):
    # An endpoint whose query sleeps on the server: the smoke deadline must cut it.
    HEALTH_DEEP["SMOKE_QUERIES"] = {
        "integrations:integration-list": "tests.faults.slow.sleeping_rows"
    }
if os.environ.get("FAULT_REDIS_URL"):
    # A fleet sharing one Redis: every instance uses the same key prefix on purpose.
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["FAULT_REDIS_URL"],
            "KEY_PREFIX": os.environ.get("FAULT_REDIS_PREFIX", ""),
        },
    }
    HEALTH_DEEP["CACHE_ALIAS"] = "shared"
if os.environ.get("FAULT_PROBE_HOSTS"):
    MIDDLEWARE = ["health_deep.middleware.ProbeHostMiddleware", *MIDDLEWARE]  # noqa: F405
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "health_deep": {"handlers": ["console"], "level": "ERROR"},
        "django.request": {"handlers": ["console"], "level": "CRITICAL"},
    },
}
