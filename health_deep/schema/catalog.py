"""Read the live catalog of one database with the backend's bulk query."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from health_deep.schema import catalog_mysql, catalog_postgres, catalog_sqlite
from health_deep.schema.model import Catalog, ExpectedTable

SUPPORTED = ("postgresql", "sqlite", "mysql")
# Backends whose column types Django states without asking the server (MySQL's depend on the
# server's version): the warm-up may compute the expected schema for these while offline.
TYPES_WITHOUT_SERVER = ("postgresql", "sqlite")


def read(cursor: Any, *, vendor: str, expected: Iterable[ExpectedTable]) -> Catalog:
    """One catalog query on ``cursor``. ``vendor`` must be in :data:`SUPPORTED`."""
    if vendor == "postgresql":
        schemas = sorted({t.schema for t in expected if t.schema})
        return catalog_postgres.read(cursor, schemas=schemas)
    if vendor == "sqlite":
        return catalog_sqlite.read(cursor)
    if vendor == "mysql":
        return catalog_mysql.read(cursor, mariadb=cursor.db.mysql_is_mariadb)
    raise ValueError(f"no catalog reader for {vendor}")
