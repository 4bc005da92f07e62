"""A private PostgreSQL server for the fault suite: it can be stopped and restarted without
touching the machine's shared server. Made with the machine's own initdb/pg_ctl, as the
``postgres`` user when the suite runs as root (initdb refuses root)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("the fault suite needs PostgreSQL's initdb and pg_ctl")
    return Path(initdb).parent


class Cluster:
    """One throwaway PostgreSQL server on ``port`` with trust auth and database ``faults``."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.bin = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="hd_faults_pg_"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=60)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\nmax_connections = 300\n"
                "fsync = off\n"
            )
        self.start()
        self.sql("CREATE DATABASE faults")

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/faults"

    @contextlib.contextmanager
    def connect(self, dbname: str = "faults") -> Iterator[Any]:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname=dbname,
            autocommit=True,
            connect_timeout=3,
        ) as conn:
            yield conn

    def locking(self, *tables: str) -> Any:
        """A ``take()`` for :func:`tests.locks.held_elsewhere`: ACCESS EXCLUSIVE on
        ``tables``, held in a transaction of its own connection."""

        @contextlib.contextmanager
        def take() -> Iterator[None]:
            with self.connect() as conn, conn.transaction():
                conn.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
                yield

        return take

    def sql(self, statement: str, dbname: str = "postgres") -> list[tuple[Any, ...]]:
        with self.connect(dbname) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def backends(self) -> int:
        """Client backends connected to the ``faults`` database, other than this query's."""
        rows = self.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'faults' "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        return int(rows[0][0])

    def rollbacks(self) -> int:
        rows = self.sql("SELECT xact_rollback FROM pg_stat_database WHERE datname = 'faults'")
        return int(rows[0][0])
