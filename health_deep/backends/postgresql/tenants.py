"""Schema-per-tenant reads on PostgreSQL, each one statement for any number of schemas.

- :func:`migration_digests`: a digest of each schema's applied migrations of its apps, for the
  schemas that have a ``django_migrations`` table. Each schema's table is read by a small query
  the server runs for it (``query_to_xml``), so the statement stays a few hundred bytes and is
  planned once, where a ``UNION ALL`` of a thousand branches cost more to plan than to run.
- :func:`applied`: the rows themselves, for the few schemas that stand for a state.
- :func:`catalog_digests`: a digest of each schema's catalog entries (columns, constraints,
  indexes, triggers) for the tables its models name, hashed per entry and combined per schema,
  so schemas built alike give the same digest and only one of them is compared in Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_MIGRATION_DIGESTS = """
SELECT w.nspname, (xpath('/row/d/text()', query_to_xml(format(
           'SELECT md5(string_agg(app || ''.'' || name, '','' ORDER BY app, name)) AS d '
           'FROM %%I.django_migrations WHERE app = ANY(%%L::text[])', w.nspname, w.apps),
       false, true, '')))[1]::text
  FROM unnest(%s::text[], %s::text[]) AS w(nspname, apps)
  JOIN pg_catalog.pg_namespace n ON n.nspname = w.nspname
 WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                WHERE c.relnamespace = n.oid AND c.relname = 'django_migrations'
                  AND c.relkind IN ('r', 'p'))
"""


def _array(values: Sequence[str]) -> str:
    """A text[] literal (names are quoted, so commas and quotes in them are safe)."""
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


def migration_digests(cursor: Any, apps: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Schema -> md5 of its applied migrations of ``apps[schema]`` ('' for none), for those
    of the schemas that exist and have a ``django_migrations`` table (the rest are absent)."""
    if not apps:
        return {}
    names = list(apps)
    cursor.execute(_MIGRATION_DIGESTS, [names, [_array(sorted(apps[s])) for s in names]])
    return {row[0]: row[1] or "" for row in cursor.fetchall()}


# One UNION ALL branch per schema: only for the few schemas that stand for a state.
_BRANCH = "SELECT %s AS s, app, name FROM {table} WHERE app = ANY(%s)"


def applied(
    cursor: Any, quote: Any, apps: Mapping[str, Sequence[str]]
) -> dict[str, set[tuple[str, str]]]:
    """Schema -> its applied migrations of ``apps[schema]``, for a few schemas."""
    found: dict[str, set[tuple[str, str]]] = {schema: set() for schema in apps}
    if not apps:
        return found
    parts, params = [], []
    for schema, labels in apps.items():
        parts.append(_BRANCH.format(table=f"{quote(schema)}.django_migrations"))
        params += [schema, list(labels)]
    cursor.execute(" UNION ALL ".join(parts), params)
    for schema, app, name in cursor.fetchall():
        found[schema].add((app, name))
    return found


# Every entry hashed on its own and the hashes combined per schema with XOR: no string built
# per schema. Entries carry names, never oids or column numbers (a schema migrated since a
# column was dropped numbers its columns apart from one created since): alike schemas hash
# alike. A constraint or index is known by its name and how many columns it has: Django's
# names are made from the table and the columns, and what differs is compared in full in the
# schema that stands for the state.
_CATALOG_DIGESTS = """
WITH rels AS (
    -- Through the (relname, relnamespace) index: the wanted names of the schemas of each
    -- kind (schemas of one kind want the same tables).
    SELECT c.oid, n.nspname, c.relname, c.relkind
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE ({wanted})
       AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
)
SELECT nspname, count(*) || ':' || bit_xor(h) FROM (
    SELECT r.nspname, hashtextextended(concat_ws(':', r.relname, r.relkind), 0) AS h
      FROM rels r
    UNION ALL
    SELECT r.nspname, hashtextextended(concat_ws(':', r.relname, a.attname, a.atttypid,
               a.atttypmod, a.attnotnull, a.atthasdef, a.attidentity, a.attgenerated), 1)
      FROM rels r JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid
     WHERE a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT r.nspname, hashtextextended(concat_ws(':', r.relname, con.conname, con.contype,
               con.convalidated, cardinality(con.conkey), fr.relname), 2)
      FROM rels r JOIN pg_catalog.pg_constraint con ON con.conrelid = r.oid
      LEFT JOIN pg_catalog.pg_class fr ON fr.oid = con.confrelid
     WHERE con.contype IN ('p', 'u', 'f', 'c', 'x')
    UNION ALL
    SELECT r.nspname, hashtextextended(concat_ws(':', r.relname, i.relname, ix.indisunique,
               ix.indisprimary, ix.indisvalid, ix.indpred IS NOT NULL, ix.indnatts,
               ix.indnkeyatts, 0 = ANY(ix.indkey::int2[])), 3)
      FROM rels r JOIN pg_catalog.pg_index ix ON ix.indrelid = r.oid
      JOIN pg_catalog.pg_class i ON i.oid = ix.indexrelid
    UNION ALL
    SELECT r.nspname, hashtextextended(concat_ws(':', r.relname, t.tgname), 4)
      FROM rels r JOIN pg_catalog.pg_trigger t ON t.tgrelid = r.oid
     WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND t.tgtype::int & 7 = 7
) AS entries
GROUP BY nspname
"""


def catalog_digests(cursor: Any, tables: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Schema -> a digest of its catalog entries for the tables ``tables[schema]``, for those
    of the schemas that hold at least one of them (the rest are absent)."""
    kinds: dict[tuple[str, ...], list[str]] = {}
    for schema, names in tables.items():
        if names:
            kinds.setdefault(tuple(sorted(names)), []).append(schema)
    if not kinds:
        return {}
    wanted = " OR ".join(
        ["(c.relname = ANY(%s::text[]) AND n.nspname = ANY(%s::text[]))"] * len(kinds)
    )
    params = [value for names, schemas in kinds.items() for value in (list(names), schemas)]
    cursor.execute(_CATALOG_DIGESTS.format(wanted=wanted), params)
    return {row[0]: row[1] for row in cursor.fetchall()}
