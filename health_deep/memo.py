"""Everything health_deep keeps per process, and the one way it is forgotten.

Facts that depend only on the code and the settings (the migration graph, fingerprints,
autodetector output, the expected schema, the endpoints and their queries, the fleet scope)
do not change while a process runs. They are computed lazily on first use (never in
``AppConfig.ready()``), single-flight per fact (a slow fact never holds up another), and kept
under a name whose prefix says what feeds it: ``migrations:``, ``schema:``, ``smoke:``,
``fleet:``, ``tenants:``. Small per-process records (the last schema comparison, where smoke
rotation stands) live here too, through :func:`record`.

They are forgotten in one place: :func:`forget`, called by the ``setting_changed`` receiver
below for the settings that feed each prefix, and after ``migrate`` (which may have written
migration files). Tests never reset anything by hand: ``override_settings`` forgets what the
overridden setting feeds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.signals import setting_changed
from django.dispatch import receiver

from health_deep import conf

T = TypeVar("T")

_lock = threading.Lock()  # guards the two dicts below, never held while computing
_locks: dict[str, threading.RLock] = {}  # one per fact; reentrant: a fact may need itself
_cache: dict[str, Any] = {}

CODE_FACTS = ("migrations:", "schema:", "smoke:", "fleet:", "tenants:")
# Where each app lives on a schema-per-tenant site feeds every check.
_TENANCY = ("tenants:", "migrations:", "schema:", "smoke:")

# What each setting feeds. A setting not listed feeds nothing health_deep keeps.
FEEDS: dict[str, tuple[str, ...]] = {
    "HEALTH_DEEP": CODE_FACTS,
    "INSTALLED_APPS": CODE_FACTS,
    "MIGRATION_MODULES": ("migrations:", "fleet:"),
    "DEFAULT_AUTO_FIELD": ("migrations:", "schema:", "fleet:"),
    "DATABASES": ("schema:", "smoke:", "fleet:"),
    "DATABASE_ROUTERS": ("schema:", "smoke:", "fleet:"),
    "ROOT_URLCONF": ("smoke:", "fleet:"),
    "SHARED_APPS": _TENANCY,  # django-tenants
    "TENANT_APPS": _TENANCY,
    "TENANT_TYPES": _TENANCY,
    "HAS_MULTI_TYPE_TENANTS": _TENANCY,
    "TENANTS": _TENANCY,  # django-pgschemas
    "CACHES": ("schema:",),  # a DatabaseCache table is Django's, not a stray
}


def cached(name: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per process under ``name``; concurrent first callers of the same
    name wait for it, callers of other names do not."""
    if name in _cache:
        return _cache[name]  # type: ignore[no-any-return]
    with _lock:
        fact_lock = _locks.setdefault(name, threading.RLock())
    with fact_lock:
        if name not in _cache:
            value = compute()
            with _lock:
                _cache[name] = value
        return _cache[name]  # type: ignore[no-any-return]


def peek(name: str) -> Any:
    """The fact kept under ``name``, or None when it has not been computed yet (never
    computes and never waits: for a probe that must not pay for it)."""
    return _cache.get(name)


def record(name: str) -> dict[str, Any]:
    """A small mutable record kept and forgotten like a fact (``name`` has its prefix)."""
    return cached(name, dict)


def forget(*prefixes: str) -> None:
    """Forget every fact whose name starts with one of ``prefixes`` (all of them when none
    is given): the next probe works them out again."""
    with _lock:
        for name in [n for n in _cache if not prefixes or n.startswith(prefixes)]:
            del _cache[name]
    conf.forget()


def reset() -> None:
    """Forget everything."""
    forget()


@receiver(setting_changed, dispatch_uid="health_deep.memo.setting_changed")
def _setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in FEEDS:
        forget(*FEEDS[setting])
