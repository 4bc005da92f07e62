"""MySQL's and MariaDB's home: ``information_schema`` in one query, their type spellings,
session limits. MariaDB and MySQL differ only inside it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from health_deep.backends.base import BaseBackend, Failure, Features
from health_deep.backends.base.types import Verdict
from health_deep.backends.mysql import catalog, locks, operations, types
from health_deep.schema.model import Catalog, ExpectedTable


class Backend(BaseBackend):
    vendor = "mysql"
    locks = locks
    features = Features(
        enforces_unsigned=True,
        tells_checks_from_uniques=False,
        types_need_server=True,
        judges_locks=True,
    )

    def judge(self, expected: str, actual: str) -> Verdict:
        return types.judge(expected, actual)

    def read_catalog(self, cursor: Any, *, expected: Iterable[ExpectedTable]) -> Catalog:
        connection = cursor.db
        return catalog.read(
            cursor,
            mariadb=connection.mysql_is_mariadb,
            tables_case_insensitive=connection.features.ignores_table_name_case,
        )

    def limit(self, connection: Any, cursor: Any, timeout: float) -> list[str]:
        return operations.limit(connection, cursor, timeout)

    def classify(self, cause: BaseException) -> Failure | None:
        return operations.classify(cause)

    def transaction_ended(self, connection: Any, *, outermost: bool) -> bool | None:
        return operations.transaction_ended(connection, outermost=outermost)

    def client_limits(self, params: dict[str, Any], seconds: float) -> dict[str, Any]:
        return operations.client_limits(params, seconds)

    def identity(self, connection: Any, cursor: Any) -> tuple[str, ...] | None:
        return operations.identity(cursor, mariadb=connection.mysql_is_mariadb)

    def socket_of(self, raw: Any) -> int | None:
        return operations.socket_of(raw)
