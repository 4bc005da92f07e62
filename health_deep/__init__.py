"""health_deep: a Django health endpoint that tells the truth about the database schema.

The check classes are importable from here for sites that build their own view, best with
health_deep's view class, which keeps the status codes (503 on critical findings only)::

    health_deep.views.HealthView.as_view(checks=["health_deep.Migrations", ...])
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0.dev0"
__all__ = ["Connection", "Migrations", "SchemaDrift", "SmokeQueries", "smoke_query"]


def __getattr__(name: str) -> Any:
    # Lazy, so that listing the app in INSTALLED_APPS imports nothing from Django's ORM early.
    if name == "smoke_query":
        from health_deep.smoke.registry import smoke_query

        return smoke_query
    if name in __all__:
        from health_deep import checks

        return getattr(checks, name)
    raise AttributeError(f"module 'health_deep' has no attribute {name!r}")
