"""The contract every vendor home fulfils, and its defaults.

health_deep keeps what it knows of each database vendor in one home, as Django keeps
``django/db/backends/<vendor>/``: ``catalog`` (the one catalog query and its shaping),
``types`` (which column types serve which fields), ``operations`` (the guard's limits, how a
driver error is classified, whether a transaction was ended). The rule modules ask a
backend's :class:`Features` instead of comparing vendor names.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from health_deep.backends.base.locks import Lock, Size
from health_deep.backends.base.types import Verdict, fold
from health_deep.schema.model import Catalog, ExpectedTable


class Failure(enum.Enum):
    """Why a probe query failed, as far as the driver lets us tell."""

    MISSING_TABLE = "missing_table"
    TIMEOUT = "timeout"
    READ_ONLY = "read_only"  # something tried to write inside the read-only transaction
    UNREACHABLE = "unreachable"
    OTHER = "other"


@dataclasses.dataclass(frozen=True)
class Features:
    """What the rule modules may ask of a vendor."""

    # Every table has rowid/oid/_rowid_, listed in the catalog or not (SQLite).
    implicit_rowid: bool = False
    # The server refuses a negative value in an UNSIGNED column by its type alone (MySQL);
    # SQLite accepts the word and ignores it.
    enforces_unsigned: bool = False
    # The catalog tells a CHECK from a UNIQUE constraint of the same name (PostgreSQL);
    # elsewhere a declared check is also looked for among the unique ones.
    tells_checks_from_uniques: bool = True
    # Django asks the server (its version) to state column types (MySQL): the expected
    # schema cannot be worked out offline, in the warm-up thread.
    types_need_server: bool = False
    # A value longer than varchar(N) is refused or cut (SQLite keeps it whole: a shorter
    # max_length cannot fail there).
    enforces_lengths: bool = True
    # Schemas within one database, a search path, and the reads across them that
    # schema-per-tenant sites need (PostgreSQL).
    supports_schemas: bool = False
    # Its DDL's locks are known statement by statement (postgresql/locks.py, mysql/locks.py).
    judges_locks: bool = False


class BaseBackend:
    """A vendor home. Subclasses override what their vendor does differently."""

    vendor = ""
    features = Features()

    def judge(self, expected: str, actual: str) -> Verdict:
        """How the column type ``actual`` serves a field whose type is ``expected``."""
        return Verdict.SAME if fold(expected) == fold(actual) else Verdict.UNKNOWN

    def read_catalog(self, cursor: Any, *, expected: Iterable[ExpectedTable]) -> Catalog:
        """The live schema, in one query on ``cursor``."""
        raise NotImplementedError(f"no catalog reader for {self.vendor}")

    def limit(self, connection: Any, cursor: Any, timeout: float) -> list[str]:
        """Put the guard's limits on the open transaction; return the statements that undo
        whichever of them outlive it (session settings), run after the rollback."""
        return []

    @contextlib.contextmanager
    def deadline(self, connection: Any, timeout: float) -> Iterator[None]:
        """Interrupt what runs past ``timeout`` where the server has no statement timeout."""
        yield

    def classify(self, cause: BaseException) -> Failure | None:
        """The failure a driver error of this vendor means, or None when not this vendor's."""
        return None

    def transaction_ended(self, connection: Any, *, outermost: bool) -> bool | None:
        """Whether the guard's transaction was ended under it; None when the vendor does not
        tell cheaply."""
        return None

    def client_limits(self, params: dict[str, Any], seconds: float) -> dict[str, Any]:
        """The driver's connection parameters with limits the client itself enforces (connect,
        keepalive, read timeouts), so that a server or network that goes silent cannot hold
        a connection health_deep opened; what the site set is kept."""
        return params

    def identity(self, connection: Any, cursor: Any) -> tuple[str, ...] | None:
        """What tells this database apart from every other, read from the connection actually
        made (never from the settings, which two environments may share); None when the
        vendor has no way to tell (the settings are then all there is)."""
        return None

    # The deploy plan's lock judgement (``features.judges_locks``): a vendor names its module of
    # rules, ``locks``, with ``effects(sql, column_type=)``, ``sizes(cursor, tables)`` and
    # ``lock_limit(cursor, settings_dict)``; see base/locks.py.
    locks: Any = None

    def lock_effects(
        self, sql: str, *, column_type: Callable[[str, str], str | None]
    ) -> list[Lock]:
        """The long locks statement ``sql`` takes (none known without rules)."""
        return [] if self.locks is None else list(self.locks.effects(sql, column_type=column_type))

    def table_sizes(self, cursor: Any, tables: list[str]) -> dict[str, Size]:
        """The estimated size of each of ``tables`` that exists."""
        return {} if self.locks is None else dict(self.locks.sizes(cursor, tables))

    def lock_limit(self, connection: Any, cursor: Any) -> float | None:
        """The lock timeout, in seconds, a session on ``connection``'s settings starts with
        (what migrate's would have); None for no limit."""
        if self.locks is None:
            return None
        limit: float | None = self.locks.lock_limit(cursor, connection.settings_dict)
        return limit

    # Schema-per-tenant reads (``features.supports_schemas``), each one statement for any
    # number of schemas; see backends/postgresql/tenants.py.

    def use_schemas(self, cursor: Any, schemas: list[str]) -> None:
        """Put ``schemas`` on the search path until the transaction ends."""
        raise NotImplementedError(f"{self.vendor} has no schemas")

    def migration_digests(self, cursor: Any, apps: dict[str, list[str]]) -> dict[str, str]:
        """Schema -> a digest of its applied migrations of ``apps[schema]``, for the schemas
        that have a ``django_migrations`` table."""
        raise NotImplementedError(f"{self.vendor} has no schemas")

    def applied_migrations(
        self, cursor: Any, apps: dict[str, list[str]]
    ) -> dict[str, set[tuple[str, str]]]:
        """Schema -> its applied migrations of ``apps[schema]``, for a few schemas."""
        raise NotImplementedError(f"{self.vendor} has no schemas")

    def catalog_digests(self, cursor: Any, tables: dict[str, list[str]]) -> dict[str, str]:
        """Schema -> a digest of its catalog entries for ``tables[schema]``, for the schemas
        that hold any of them."""
        raise NotImplementedError(f"{self.vendor} has no schemas")

    def read_schema_catalogs(self, cursor: Any, schemas: list[str]) -> dict[str, Catalog]:
        """The catalog of each of a few ``schemas``, apart."""
        raise NotImplementedError(f"{self.vendor} has no schemas")

    def socket_of(self, raw: Any) -> int | None:
        """The file descriptor of an open driver connection, or None (closed, or the driver
        does not tell): what another thread shuts down to free a thread stuck reading it."""
        return None
