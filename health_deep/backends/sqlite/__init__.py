"""SQLite's home: ``sqlite_master`` and the table-valued PRAGMAs in one query, type affinity,
``PRAGMA`` limits and a progress handler."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from health_deep.backends.base import BaseBackend, Failure, Features
from health_deep.backends.base.types import Verdict
from health_deep.backends.sqlite import catalog, operations, types
from health_deep.schema.model import Catalog, ExpectedTable


class Backend(BaseBackend):
    vendor = "sqlite"
    features = Features(
        implicit_rowid=True, tells_checks_from_uniques=False, enforces_lengths=False
    )

    def judge(self, expected: str, actual: str) -> Verdict:
        return types.judge(expected, actual)

    def read_catalog(self, cursor: Any, *, expected: Iterable[ExpectedTable]) -> Catalog:
        return catalog.read(cursor)

    def limit(self, connection: Any, cursor: Any, timeout: float) -> list[str]:
        return operations.limit(cursor, timeout)

    @contextlib.contextmanager
    def deadline(self, connection: Any, timeout: float) -> Iterator[None]:
        with operations.deadline(connection.connection, timeout):
            yield

    def classify(self, cause: BaseException) -> Failure | None:
        return operations.classify(cause)

    def transaction_ended(self, connection: Any, *, outermost: bool) -> bool | None:
        return not connection.connection.in_transaction

    def client_limits(self, params: dict[str, Any], seconds: float) -> dict[str, Any]:
        return operations.client_limits(params, seconds)

    def identity(self, connection: Any, cursor: Any) -> tuple[str, ...] | None:
        return operations.identity(str(connection.settings_dict["NAME"]))
