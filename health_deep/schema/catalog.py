"""Read the live catalog of one database with the backend's bulk query."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from health_deep.schema import catalog_postgres, catalog_sqlite
from health_deep.schema.model import Catalog, ExpectedTable

SUPPORTED = ("postgresql", "sqlite")


def read(cursor: Any, *, vendor: str, expected: Iterable[ExpectedTable]) -> Catalog:
    """One catalog query on ``cursor``. ``vendor`` must be in :data:`SUPPORTED`."""
    if vendor == "postgresql":
        schemas = sorted({t.schema for t in expected if t.schema})
        return catalog_postgres.read(cursor, schemas=schemas)
    if vendor == "sqlite":
        return catalog_sqlite.read(cursor)
    raise ValueError(f"no catalog reader for {vendor}")
