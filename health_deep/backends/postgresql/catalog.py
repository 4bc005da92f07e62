"""The live schema on PostgreSQL, from ``pg_catalog`` in one query.

One round trip returns every column, constraint and index of every table and view in the
``search_path`` (plus any schema a ``db_table`` names), built into JSON by the server. It
reads only catalogs: no user table is touched, so a migration's lock on a table cannot make
it wait, and it costs the same for 5 tables as for 500 in round trips.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from health_deep.schema.model import Catalog, Column, Constraint, ConstraintKind, Table

# Relations in scope: search_path schemas (ranked, first wins) and explicitly named schemas.
_SEARCH_PATH = """
    SELECT s.nspname, s.rank
      FROM unnest(current_schemas(false)) WITH ORDINALITY AS s(nspname, rank)
    UNION ALL
"""
_SCOPE = """
WITH scope AS ({search_path}
    SELECT e AS nspname, 1000 AS rank FROM unnest(%s::text[]) AS e
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

# Key columns come back as attribute numbers and are named from the column list in Python:
# joining pg_attribute once per constraint costs more than the rest of the query.
_CATALOG = (
    _SCOPE
    + """
SELECT json_build_object(
  'tables', (SELECT coalesce(json_agg(json_build_array(
        r.oid::bigint, r.nspname, r.relname, r.relkind, r.rank,
        EXISTS (SELECT 1 FROM pg_trigger t  -- a BEFORE INSERT row trigger can fill columns
                 WHERE t.tgrelid = r.oid AND NOT t.tgisinternal AND t.tgenabled <> 'D'
                   AND t.tgtype::int & 7 = 7))), '[]') FROM rels r),
  'columns', (SELECT coalesce(json_agg(json_build_array(
        r.oid::bigint, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
        NOT a.attnotnull, a.atthasdef, a.attidentity <> '' OR a.attgenerated <> '')), '[]')
      FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid
     WHERE a.attnum > 0 AND NOT a.attisdropped),
  'constraints', (SELECT coalesce(json_agg(json_build_array(
        r.oid::bigint, con.conname, con.contype, con.convalidated, con.conkey,
        fr.relname, con.confrelid::bigint, con.confkey)), '[]')
      FROM rels r JOIN pg_constraint con ON con.conrelid = r.oid
      LEFT JOIN pg_class fr ON fr.oid = con.confrelid
     WHERE con.contype IN ('p', 'u', 'f', 'c', 'x')),
  'indexes', (SELECT coalesce(json_agg(json_build_array(
        r.oid::bigint, i.relname, ix.indisunique, ix.indisprimary, ix.indisvalid,
        ix.indpred IS NOT NULL, (ix.indkey::int2[])[0:ix.indnkeyatts - 1])), '[]')
      FROM rels r JOIN pg_index ix ON ix.indrelid = r.oid
      JOIN pg_class i ON i.oid = ix.indexrelid)
)::text
"""
)
CATALOG_SQL = _CATALOG.format(search_path=_SEARCH_PATH)
# Only the named schemas, each apart (tenants' schemas, compared one by one).
SCHEMAS_SQL = _CATALOG.format(search_path="")

_KIND: dict[str, ConstraintKind] = {
    "p": "primary",
    "u": "unique",
    "f": "foreign",
    "c": "check",
    "x": "exclusion",
}


def read(cursor: Any, *, schemas: list[str]) -> Catalog:
    """Run the catalog query on ``cursor`` and shape the answer into a :class:`Catalog`."""
    cursor.execute(CATALOG_SQL, [schemas])
    return shape_text(cursor.fetchone()[0], explicit_schemas=tuple(sorted(schemas)))


def read_schemas(cursor: Any, *, schemas: list[str]) -> dict[str, Catalog]:
    """The catalogs of ``schemas``, each keyed by bare table names, in one query."""
    cursor.execute(SCHEMAS_SQL, [schemas])
    data = json.loads(cursor.fetchone()[0])
    found: dict[str, Catalog] = {}
    for schema in schemas:
        # Ranked first, as if on the search path: its tables keyed by their bare names.
        tables = [[*t[:4], 0, *t[5:]] for t in data["tables"] if t[1] == schema]
        found[schema] = shape({**data, "tables": tables}, explicit_schemas=set())
    return found


@functools.lru_cache(maxsize=4)
def shape_text(raw: str, *, explicit_schemas: tuple[str, ...]) -> Catalog:
    """Shape the query's JSON text. Cached: an unchanged catalog is not parsed again."""
    return shape(json.loads(raw), explicit_schemas=set(explicit_schemas))


def shape(data: dict[str, Any], *, explicit_schemas: set[str]) -> Catalog:
    """Turn the query's JSON into tables. Pure, so it is testable without a server."""
    names: dict[tuple[int, int], str] = {}  # (table oid, attnum) -> column name
    columns: dict[int, dict[str, Column]] = {}
    for oid, attnum, col, typ, nullable, has_default, generated in data["columns"]:
        names[(oid, attnum)] = col
        columns.setdefault(oid, {})[col] = Column(col, typ, nullable, has_default, generated)

    def named(oid: int, attnums: list[int] | None) -> tuple[str | None, ...]:
        return tuple(names.get((oid, n)) for n in attnums or ())  # 0: an expression

    constraints: dict[int, list[Constraint]] = {}
    for oid, name, contype, valid, keys, ref_table, ref_oid, ref_keys in data["constraints"]:
        constraints.setdefault(oid, []).append(
            Constraint(
                name=name,
                kind=_KIND[contype],
                columns=named(oid, keys),
                valid=bool(valid),
                ref_table=ref_table,
                ref_columns=tuple(c for c in named(ref_oid, ref_keys) if c is not None),
            )
        )
    for oid, name, unique, primary, valid, partial, keys in data["indexes"]:
        index_kind: ConstraintKind = "primary" if primary else "unique" if unique else "index"
        constraints.setdefault(oid, []).append(
            Constraint(
                name=name,
                kind=index_kind,
                columns=named(oid, keys),
                valid=bool(valid),
                partial=bool(partial),
            )
        )
    tables: dict[str, Table] = {}
    # Lowest rank first, so the first schema on the search_path owns an unqualified name.
    for oid, schema, name, relkind, rank, *trigger in sorted(data["tables"], key=lambda t: t[4]):
        table = Table(
            name=name,
            kind="view" if relkind in ("v", "m") else "table",
            columns=columns.get(oid, {}),
            constraints=tuple(constraints.get(oid, ())),
            fills_on_insert=bool(trigger and trigger[0]),
        )
        if schema in explicit_schemas:
            tables[f"{schema}.{name}"] = table
        if rank < 1000:
            tables.setdefault(name, table)
    return Catalog(vendor="postgresql", tables=tables)
