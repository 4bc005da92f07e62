"""One home per database vendor: ``backends.get(vendor)`` for the rule modules and the guard.

Vendors without a home (Oracle, third-party backends) get :class:`BaseBackend`: their schema is
not checked (``health_deep.I223``), their migrations and smoke queries are.
"""

from __future__ import annotations

import functools
import importlib

from health_deep.backends.base import BaseBackend, Failure, Features

__all__ = [
    "SUPPORTED",
    "BaseBackend",
    "Failure",
    "Features",
    "all_backends",
    "get",
    "supports_schema",
]

SUPPORTED = ("postgresql", "sqlite", "mysql")


@functools.cache
def get(vendor: str) -> BaseBackend:
    """The home of ``vendor`` (``connection.vendor``)."""
    if vendor not in SUPPORTED:
        fallback = BaseBackend()
        fallback.vendor = vendor
        return fallback
    module = importlib.import_module(f"health_deep.backends.{vendor}")
    backend: BaseBackend = module.Backend()
    return backend


def all_backends() -> list[BaseBackend]:
    return [get(vendor) for vendor in SUPPORTED]


def supports_schema(vendor: str) -> bool:
    return vendor in SUPPORTED
