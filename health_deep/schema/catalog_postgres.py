"""The live schema on PostgreSQL, from ``pg_catalog`` in one query.

One round trip returns every column, constraint and index of every table and view in the
``search_path`` (plus any schema a ``db_table`` names), built into JSON by the server. It
reads only catalogs: no user table is touched, so a migration's lock on a table cannot make
it wait, and it costs the same for 5 tables as for 500 in round trips.
"""

from __future__ import annotations

import json
from typing import Any

from health_deep.schema.model import Catalog, Column, Constraint, Table

# Relations in scope: search_path schemas (ranked, first wins) and explicitly named schemas.
_SCOPE = """
WITH scope AS (
    SELECT s.nspname, s.rank
      FROM unnest(current_schemas(false)) WITH ORDINALITY AS s(nspname, rank)
    UNION ALL
    SELECT e, 1000 FROM unnest(%s::text[]) AS e
),
rels AS (
    SELECT c.oid, c.relname, c.relkind, n.nspname, min(scope.rank) AS rank
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN scope ON scope.nspname = n.nspname
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
       AND NOT c.relispartition
       AND NOT EXISTS (SELECT 1 FROM pg_depend d  -- tables an extension owns (PostGIS, ...)
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                          AND d.deptype = 'e')
     GROUP BY c.oid, c.relname, c.relkind, n.nspname
)
"""

CATALOG_SQL = _SCOPE + """
SELECT json_build_object(
  'tables', (SELECT coalesce(json_agg(json_build_array(
        r.oid::bigint, r.nspname, r.relname, r.relkind, r.rank)), '[]') FROM rels r),
  'columns', (SELECT coalesce(json_agg(json_build_array(
        r.oid::bigint, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
        a.atthasdef, a.attidentity <> '' OR a.attgenerated <> '')), '[]')
      FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid
     WHERE a.attnum > 0 AND NOT a.attisdropped),
  'constraints', (SELECT coalesce(json_agg(json_build_array(
        r.oid::bigint, con.conname, con.contype, con.convalidated,
        (SELECT array_agg(att.attname ORDER BY k.ord)
           FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
           JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = k.attnum),
        fr.relname,
        (SELECT array_agg(att.attname ORDER BY k.ord)
           FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
           JOIN pg_attribute att ON att.attrelid = con.confrelid AND att.attnum = k.attnum))),
        '[]')
      FROM rels r JOIN pg_constraint con ON con.conrelid = r.oid
      LEFT JOIN pg_class fr ON fr.oid = con.confrelid
     WHERE con.contype IN ('p', 'u', 'f', 'c', 'x')),
  'indexes', (SELECT coalesce(json_agg(json_build_array(
        r.oid::bigint, i.relname, ix.indisunique, ix.indisprimary, ix.indisvalid,
        ix.indpred IS NOT NULL,
        (SELECT array_agg(att.attname ORDER BY k.ord)
           FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
           LEFT JOIN pg_attribute att ON att.attrelid = ix.indrelid AND att.attnum = k.attnum
          WHERE k.ord <= ix.indnkeyatts))), '[]')
      FROM rels r JOIN pg_index ix ON ix.indrelid = r.oid
      JOIN pg_class i ON i.oid = ix.indexrelid)
)
"""

_KIND = {"p": "primary", "u": "unique", "f": "foreign", "c": "check", "x": "exclusion"}


def read(cursor: Any, *, schemas: list[str]) -> Catalog:
    """Run the catalog query on ``cursor`` and shape the answer into a :class:`Catalog`."""
    cursor.execute(CATALOG_SQL, [schemas])
    raw = cursor.fetchone()[0]
    data: dict[str, Any] = json.loads(raw) if isinstance(raw, str) else raw
    return shape(data, explicit_schemas=set(schemas))


def shape(data: dict[str, Any], *, explicit_schemas: set[str]) -> Catalog:
    """Turn the query's JSON into tables. Pure, so it is testable without a server."""
    columns: dict[int, dict[str, Column]] = {}
    for oid, col, typ, nullable, has_default, generated in data["columns"]:
        columns.setdefault(oid, {})[col] = Column(col, typ, nullable, has_default, generated)
    constraints: dict[int, list[Constraint]] = {}
    for oid, name, kind, valid, cols, ref_table, ref_cols in data["constraints"]:
        constraints.setdefault(oid, []).append(Constraint(
            name=name, kind=_KIND[kind], columns=tuple(cols or ()), valid=bool(valid),
            ref_table=ref_table, ref_columns=tuple(ref_cols or ())))
    for oid, name, unique, primary, valid, partial, cols in data["indexes"]:
        kind = "primary" if primary else "unique" if unique else "index"
        constraints.setdefault(oid, []).append(Constraint(
            name=name, kind=kind, columns=tuple(cols or ()), valid=bool(valid),
            partial=bool(partial)))
    tables: dict[str, Table] = {}
    # Lowest rank first, so the first schema on the search_path owns an unqualified name.
    for oid, schema, name, relkind, rank in sorted(data["tables"], key=lambda t: t[4]):
        table = Table(name=name, kind="view" if relkind in ("v", "m") else "table",
                      columns=columns.get(oid, {}), constraints=tuple(constraints.get(oid, ())))
        if schema in explicit_schemas:
            tables[f"{schema}.{name}"] = table
        if rank < 1000:
            tables.setdefault(name, table)
    return Catalog(vendor="postgresql", tables=tables)
