"""Reading and writing the fingerprint ledger and Django's own ``django_migrations`` table.

Reads run on the probe path (two queries per alias); writes happen only after ``migrate``
(through ``post_migrate``) and in ``manage.py health_deep accept``.
"""

from __future__ import annotations

import getpass
from typing import Any

from django.db import connections, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from health_deep import routing
from health_deep.history import graph
from health_deep.history.fingerprint import ALGORITHM
from health_deep.history.graph import Key
from health_deep.history.integrity import LedgerRow
from health_deep.models import LedgerEntry

LEDGER_MIGRATION: Key = ("health_deep", "0001_initial")


def read_recorded(alias: str) -> set[Key]:
    """Every (app, name) row of ``django_migrations`` on ``alias``: one query."""
    rows = MigrationRecorder.Migration.objects.using(alias).values_list("app", "name")
    return {(app, name) for app, name in rows}


def read_ledger(alias: str) -> dict[Key, LedgerRow]:
    """Every ledger row on ``alias``: one query."""
    rows = LedgerEntry.objects.using(alias).values_list(
        "app", "name", "fingerprint", "source", "recorded_at", "recorded_by", "reason"
    )
    return {
        (app, name): LedgerRow(
            fingerprint=fp if isinstance(fp, str) else None,
            source=source,
            recorded_at=at,
            recorded_by=by,
            reason=reason,
        )
        for app, name, fp, source, at, by, reason in rows
    }


def ledger_expected(alias: str) -> bool:
    """Whether routers put the ledger table on ``alias``."""
    return bool(routing.ask("allow_migrate_model", alias, LedgerEntry))


def _ledger_ready(alias: str) -> bool:
    if not ledger_expected(alias):
        return False
    connection = connections[alias]
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    return LedgerEntry._meta.db_table in tables


def record_after_migrate(*, using: str, plan: Any = None, **kwargs: Any) -> None:
    """``post_migrate`` receiver: fingerprint what was just applied, adopt what was there."""
    if not _ledger_ready(using):
        return
    graph.reset()  # this process may have just written or applied migrations
    facts = graph.load_code_facts()
    now = timezone.now()
    entries = LedgerEntry.objects.using(using)
    applied: set[Key] = set()
    unapplied: set[Key] = set()
    for migration, backwards in plan or ():
        # A squash applied fresh records what it replaces too: all of it ran just now.
        keys = {(migration.app_label, migration.name)}
        keys |= {(r[0], r[1]) for r in migration.replaces}
        (unapplied if backwards else applied).update(keys)
    with transaction.atomic(using=using):
        _delete(entries, applied | unapplied)
        entries.bulk_create(
            LedgerEntry(
                app=key[0],
                name=key[1],
                fingerprint=facts.fingerprints[key],
                source="applied",
                recorded_at=now,
            )
            for key in sorted(applied - unapplied)
            if key in facts.fingerprints
        )
        recorded = read_recorded(using)
        known = {(a, n): fp for a, n, fp in entries.values_list("app", "name", "fingerprint")}
        # Rows of an older algorithm cannot be compared: record them again as a baseline.
        # So are damaged rows (a fingerprint that is not text): nothing to compare them with.
        stale = {
            k
            for k, fp in known.items()
            if not (isinstance(fp, str) and fp.startswith(f"{ALGORITHM}:"))
            and k in facts.fingerprints
        }
        _delete(entries, stale)
        entries.bulk_create(
            LedgerEntry(
                app=key[0],
                name=key[1],
                fingerprint=facts.fingerprints[key],
                source="adopted",
                recorded_at=now,
            )
            for key in sorted(recorded)
            if (key not in known or key in stale) and key in facts.fingerprints
        )


def _delete(entries: Any, keys: set[Key]) -> None:
    by_app: dict[str, list[str]] = {}
    for app, name in keys:
        by_app.setdefault(app, []).append(name)
    for app, names in by_app.items():
        entries.filter(app=app, name__in=names).delete()


class AcceptError(Exception):
    """The edit cannot be accepted; the message says why."""


def accept(*, alias: str, key: Key, reason: str, by: str | None = None) -> LedgerEntry:
    """Record the current fingerprint of an applied migration as intended (like Flyway repair)."""
    facts = graph.load_code_facts()
    if key not in facts.fingerprints:
        raise AcceptError(f"No migration {key[0]}.{key[1]} in the code.")
    if not _ledger_ready(alias):
        raise AcceptError(f"The ledger table does not exist on '{alias}': run migrate first.")
    if key not in read_recorded(alias):
        raise AcceptError(f"{key[0]}.{key[1]} is not applied to '{alias}': nothing to accept.")
    entry, _ = LedgerEntry.objects.using(alias).update_or_create(
        app=key[0],
        name=key[1],
        defaults={
            "fingerprint": facts.fingerprints[key],
            "source": "accepted",
            "recorded_at": timezone.now(),
            "recorded_by": by or _whoami(),
            "reason": reason,
        },
    )
    graph.reset()
    return entry


def _whoami() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
