"""Hold a real PostgreSQL lock from another connection, the way a running migration does."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from django.db import connection


@contextlib.contextmanager
def access_exclusive(*tables: str) -> Iterator[None]:
    """``LOCK TABLE ... IN ACCESS EXCLUSIVE MODE`` held by another session for the block."""
    import psycopg

    db = connection.settings_dict
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"],
                             dbname=db["NAME"]) as other, other.transaction():
            other.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10), "the lock was not taken"
        yield
    finally:
        release.set()
        holder.join()
