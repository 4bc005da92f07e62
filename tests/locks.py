"""Hold a real lock from another connection, the way a running migration does."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from django.db import connection


@contextlib.contextmanager
def held_elsewhere(
    take: Callable[[], AbstractContextManager[Any]], *, seconds: float = 60
) -> Iterator[None]:
    """For the block, a thread holds what ``take()`` acquires on its own connection."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with take():
            locked.set()
            release.wait(seconds)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10), "the lock was not taken"
        yield
    finally:
        release.set()
        holder.join()


def access_exclusive(*tables: str) -> AbstractContextManager[None]:
    """PostgreSQL: ``LOCK TABLE ... IN ACCESS EXCLUSIVE MODE`` in another session."""

    @contextlib.contextmanager
    def take() -> Iterator[None]:
        import psycopg

        db = connection.settings_dict
        with (
            psycopg.connect(
                host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"]
            ) as other,
            other.transaction(),
        ):
            other.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
            yield

    return held_elsewhere(take)


def write_locked(*tables: str) -> AbstractContextManager[None]:
    """MySQL/MariaDB: ``LOCK TABLES ... WRITE`` in another session (the metadata lock an
    ALTER TABLE takes)."""

    @contextlib.contextmanager
    def take() -> Iterator[None]:
        import MySQLdb

        db = connection.settings_dict
        other = MySQLdb.connect(
            host=db["HOST"],
            port=int(db["PORT"]),
            user=db["USER"],
            passwd=db["PASSWORD"],
            db=db["NAME"],
        )
        try:
            other.cursor().execute("LOCK TABLES " + ", ".join(f"`{t}` WRITE" for t in tables))
            yield
        finally:
            other.close()

    return held_elsewhere(take)
