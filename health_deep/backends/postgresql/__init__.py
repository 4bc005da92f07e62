"""PostgreSQL's home: ``pg_catalog`` in one query, its type spellings, ``SET LOCAL`` limits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from health_deep.backends.base import BaseBackend, Failure, Features
from health_deep.backends.base.types import Verdict
from health_deep.backends.postgresql import catalog, locks, operations, tenants, types
from health_deep.schema.model import Catalog, ExpectedTable


class Backend(BaseBackend):
    vendor = "postgresql"
    locks = locks
    features = Features(tells_checks_from_uniques=True, supports_schemas=True, judges_locks=True)

    def judge(self, expected: str, actual: str) -> Verdict:
        return types.judge(expected, actual)

    def read_catalog(self, cursor: Any, *, expected: Iterable[ExpectedTable]) -> Catalog:
        # Tables whose db_table names another schema are read there too.
        return catalog.read(cursor, schemas=sorted({t.schema for t in expected if t.schema}))

    def limit(self, connection: Any, cursor: Any, timeout: float) -> list[str]:
        return operations.limit(cursor, timeout)

    def classify(self, cause: BaseException) -> Failure | None:
        return operations.classify(cause)

    def transaction_ended(self, connection: Any, *, outermost: bool) -> bool | None:
        return operations.transaction_ended(connection.connection)

    def client_limits(self, params: dict[str, Any], seconds: float) -> dict[str, Any]:
        return operations.client_limits(params, seconds)

    def identity(self, connection: Any, cursor: Any) -> tuple[str, ...] | None:
        return operations.identity(cursor)

    def socket_of(self, raw: Any) -> int | None:
        return operations.socket_of(raw)

    def use_schemas(self, cursor: Any, schemas: list[str]) -> None:
        operations.use_schemas(cursor, schemas)

    def migration_digests(self, cursor: Any, apps: dict[str, list[str]]) -> dict[str, str]:
        return tenants.migration_digests(cursor, apps)

    def applied_migrations(
        self, cursor: Any, apps: dict[str, list[str]]
    ) -> dict[str, set[tuple[str, str]]]:
        return tenants.applied(cursor, operations.quote_name, apps)

    def catalog_digests(self, cursor: Any, tables: dict[str, list[str]]) -> dict[str, str]:
        return tenants.catalog_digests(cursor, tables)

    def read_schema_catalogs(self, cursor: Any, schemas: list[str]) -> dict[str, Catalog]:
        return catalog.read_schemas(cursor, schemas=schemas)
