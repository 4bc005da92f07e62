"""What the models need from one database: tables, columns, types, keys and constraints.

Computed from the model registry and the alias's connection (for ``db_type``), once per
process and alias; it depends only on the code. Routers decide which models live where:
managed models where ``allow_migrate_model`` says so, unmanaged ones where reads go.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.db import connections
from django.db.models import CheckConstraint, Index, Model, UniqueConstraint
from django.db.models.fields import AutoFieldMixin

from health_deep import routing
from health_deep.schema.model import ExpectedColumn, ExpectedConstraint, ExpectedTable


def expected_tables(
    alias: str, *, ignore_apps: Iterable[str] = (), registry: Any = None
) -> list[ExpectedTable]:
    """Every table the models routed to ``alias`` need, in a stable order.

    ``registry`` is the app registry to read (default: the code's); the deploy plan passes
    the historical models of a migration state.
    """
    connection = connections[alias]
    ignored = set(ignore_apps)
    tables: dict[str, ExpectedTable] = {}
    for model in (registry or apps).get_models(include_auto_created=True):
        opts = model._meta
        if opts.app_label in ignored or not _lives_on(model, alias, connection):
            continue
        table = _table(model, connection)
        # Two models on one table (a second unmanaged model over a managed one, say): the
        # managed one states the schema.
        if table.name not in tables or (table.managed and not tables[table.name].managed):
            tables[table.name] = table
    return [tables[name] for name in sorted(tables)]


def _lives_on(model: type[Model], alias: str, connection: Any) -> bool:
    opts = model._meta
    if opts.proxy or opts.swapped:
        return False
    if opts.required_db_vendor and opts.required_db_vendor != connection.vendor:
        return False
    if not all(getattr(connection.features, feat, False) for feat in opts.required_db_features):
        return False
    if opts.managed:
        return bool(routing.ask("allow_migrate_model", alias, model))
    return bool(routing.ask("db_for_read", model) == alias)


def _split_schema(db_table: str) -> tuple[str | None, str]:
    # Django's documented trick for another PostgreSQL schema: db_table = 'schema"."table'.
    if '"."' in db_table:
        schema, _, table = db_table.partition('"."')
        return schema.strip('"'), table.strip('"')
    return None, db_table


def _table(model: type[Model], connection: Any) -> ExpectedTable:
    opts = model._meta
    schema, name = _split_schema(opts.db_table)
    columns = tuple(
        column
        for field in opts.local_concrete_fields
        if (column := _column(model, field, connection)) is not None
    )
    return ExpectedTable(
        name=name,
        schema=schema,
        model=opts.label,
        managed=bool(opts.managed),
        columns=columns,
        constraints=tuple(_constraints(model, connection)) if opts.managed else (),
    )


def _column(model: type[Model], field: Any, connection: Any) -> ExpectedColumn | None:
    if not field.column:
        return None
    try:
        params = field.db_parameters(connection=connection)
        db_type = params.get("type")
        check = bool(params.get("check"))
    except Exception:  # a third-party field that cannot state its type here
        db_type, check = None, False
    generated = bool(getattr(field, "generated", False))
    fk = None
    if field.remote_field is not None and getattr(field, "db_constraint", False):
        target = field.target_field
        _, target_table = _split_schema(target.model._meta.db_table)
        if connection.features.supports_foreign_keys:
            fk = (target_table, target.column)
    return ExpectedColumn(
        name=field.column,
        field=f"{model._meta.label}.{field.name}",
        db_type=db_type,
        nullable=bool(field.null) or generated,
        primary_key=bool(field.primary_key),
        unique=bool(field.unique) and not field.primary_key,
        db_index=bool(field.db_index) and not field.unique and not field.primary_key,
        fk=fk,
        check=check,
        db_default=_has_db_default(field),
        generated=generated,
        auto=isinstance(field, AutoFieldMixin),
    )


def _has_db_default(field: Any) -> bool:
    from django.db.models.fields import NOT_PROVIDED

    return getattr(field, "db_default", NOT_PROVIDED) is not NOT_PROVIDED


def _constraints(model: type[Model], connection: Any) -> list[ExpectedConstraint]:
    opts = model._meta
    found: list[ExpectedConstraint] = []
    for fields in opts.unique_together:
        found.append(ExpectedConstraint("unique", _columns(model, fields)))
    features = connection.features
    for index in opts.indexes:
        if not isinstance(index, Index) or not index.name:
            continue
        # Django's migration skips an expression index the backend cannot build (MariaDB),
        # but builds a partial one without its condition where WHERE is unsupported (MySQL).
        if index.expressions and not features.supports_expression_indexes:
            continue
        if not _built_here(index, model, connection):
            continue
        found.append(ExpectedConstraint("index", _columns(model, index.fields), index.name))
    for constraint in opts.constraints:
        found += _declared_constraint(model, constraint, connection)
    return found


def _built_here(index: Index, model: type[Model], connection: Any) -> bool:
    """False for an index whose own ``create_sql()`` gives no SQL on this connection, so
    ``migrate`` built nothing: pretix's ``BrinIndexIgnoredOnSQLite`` is PostgreSQL-only.
    Only a ``create_sql()`` from outside Django is asked (Django's own indexes are judged by
    the features above, and asking them may read the server's version)."""
    owner = next((k for k in type(index).__mro__ if "create_sql" in vars(k)), Index)
    if owner.__module__.split(".")[0] == "django":
        return True
    try:
        sql = index.create_sql(model, connection.SchemaEditorClass(connection, collect_sql=True))
    except Exception:  # it would have failed the migration too: keep it expected
        return True
    return bool(sql and str(sql).strip())


def _declared_constraint(
    model: type[Model], constraint: Any, connection: Any
) -> list[ExpectedConstraint]:
    features = connection.features
    if isinstance(constraint, UniqueConstraint):
        if constraint.condition is not None and not features.supports_partial_indexes:
            return []
        if constraint.expressions and not features.supports_expression_indexes:
            return []
        deferrable = features.supports_deferrable_unique_constraints
        if constraint.deferrable is not None and not deferrable:
            return []
        columns = _columns(model, constraint.fields) if constraint.fields else ()
        partial = constraint.condition is not None
        return [ExpectedConstraint("unique", columns, constraint.name, partial=partial)]
    if isinstance(constraint, CheckConstraint):
        if not features.supports_table_check_constraints:
            return []
        return [ExpectedConstraint("check", (), constraint.name)]
    if type(constraint).__name__ == "ExclusionConstraint":
        return [ExpectedConstraint("exclusion", (), constraint.name)]
    return []  # a third-party constraint type: nothing we can judge


def _columns(model: type[Model], names: Iterable[str]) -> tuple[str, ...]:
    columns: list[str] = []
    for name in names:
        field: Any = model._meta.get_field(name.lstrip("-"))  # "-created" orders, same column
        columns.append(field.column)
    return tuple(columns)
