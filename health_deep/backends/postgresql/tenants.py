"""Schema-per-tenant reads on PostgreSQL: a fixed number of statements for any number of
schemas (the schemas that have a ``django_migrations`` table; a digest of each one's applied
migrations, grouped; the rows of one schema per distinct digest)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

# One UNION ALL branch per schema: a statement of ~100 bytes per schema (100 KB at 1,000).
_BRANCH = "SELECT %s AS s, app, name FROM {table} WHERE app = ANY(%s)"


def migrated_schemas(cursor: Any, schemas: Sequence[str]) -> set[str]:
    """Those of ``schemas`` that exist and have a ``django_migrations`` table."""
    cursor.execute(
        "SELECT n.nspname FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relname = 'django_migrations' AND c.relkind IN ('r', 'p') "
        "AND n.nspname = ANY(%s)",
        [list(schemas)],
    )
    return {row[0] for row in cursor.fetchall()}


def _union(quote: Any, schemas: Iterable[str], apps: list[str]) -> tuple[str, list[Any]]:
    parts, params = [], []
    for schema in schemas:
        parts.append(_BRANCH.format(table=f"{quote(schema)}.django_migrations"))
        params += [schema, apps]
    return " UNION ALL ".join(parts), params


def digests(cursor: Any, quote: Any, schemas: Sequence[str], apps: list[str]) -> dict[str, str]:
    """Schema -> md5 of its applied migrations of ``apps`` (a schema with none: '')."""
    if not schemas:
        return {}
    union, params = _union(quote, schemas, apps)
    cursor.execute(
        "SELECT s, md5(string_agg(app || '.' || name, ',' ORDER BY app, name)) "
        f"FROM ({union}) AS applied GROUP BY s",
        params,
    )
    found = {schema: "" for schema in schemas}
    found.update({row[0]: row[1] for row in cursor.fetchall()})
    return found


def applied(
    cursor: Any, quote: Any, schemas: Sequence[str], apps: list[str]
) -> dict[str, set[tuple[str, str]]]:
    """Schema -> its applied migrations of ``apps``, for ``schemas`` (a few)."""
    found: dict[str, set[tuple[str, str]]] = {schema: set() for schema in schemas}
    if not schemas:
        return found
    union, params = _union(quote, schemas, apps)
    cursor.execute(union, params)
    for schema, app, name in cursor.fetchall():
        found[schema].add((app, name))
    return found
