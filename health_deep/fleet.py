"""What a shared result depends on: the release's code and the database it looks at.

Instances that share a cache (``HEALTH_DEEP['CACHE_ALIAS']``) may reuse each other's results
only when the verdict would be the same: the same migrations (by fingerprint), the same
models, the same endpoints, the same health_deep settings, against the same databases. During
a rolling deploy the old and the new release then keep apart, and two environments on one
Redis never see each other's results. The scope is computed once per process, in the
background: the code and settings, and each database's identity as the connection actually
made reports it (one read-only query per alias); only hashes are part of it, never a
credential, and until it is known nothing is shared.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings

from health_deep import conf, memo

logger = logging.getLogger("health_deep")


def scope() -> str | None:
    """A short hash of the release and the databases, or None when it cannot be computed
    (the code does not load, a database does not answer): then nothing is shared."""
    try:
        return memo.cached("fleet:scope", _compute)
    except Exception as exc:
        logger.warning(
            "health_deep could not work out the release and database identity (%s); results "
            "are not shared until it can",
            type(exc).__name__,
        )
        return None


def known_scope() -> str | None:
    """The scope when it has been worked out already; never computes (a probe asks this)."""
    value = memo.peek("fleet:scope")
    return value if isinstance(value, str) else None


def _compute() -> str:
    digest = hashlib.sha256()
    for part in (_version(), _migrations(), _models(), _endpoints(), _settings(), _databases()):
        digest.update(repr(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()[:20]


def _version() -> str:
    from health_deep import __version__

    return str(__version__)


def _migrations() -> list[tuple[str, str, str]]:
    from health_deep.history import graph

    facts = graph.code_facts()
    return sorted((app, name, fp) for (app, name), fp in facts.fingerprints.items())


def _models() -> list[tuple[Any, ...]]:
    from health_deep.history import store

    return store.describe_models()


def _endpoints() -> list[tuple[str, str, str, str]]:
    from health_deep.smoke.runner import smoke_endpoints

    return sorted((e.route, e.name or "", e.view, e.source) for e in smoke_endpoints())


def _settings() -> list[tuple[str, str]]:
    config = conf.get()
    skip = {"token", "details", "details_ips"}  # who sees details does not change a verdict
    return sorted(
        (field, repr(getattr(config, field)))
        for field in config.__dataclass_fields__
        if field not in skip
    )


def _databases() -> list[tuple[str, str]]:
    """Each checked database's identity, read from the connection actually made (one guarded
    query per alias): settings that two environments share (``HOST=127.0.0.1``, a port from
    ``PGPORT``, a DNS name resolved per namespace) never make them one. Only hashes leave the
    process. A vendor that cannot tell falls back to the settings' engine, host, port, name."""
    from django.db import connections

    from health_deep import backends, dbguard, runner

    identities = []
    databases: dict[str, dict[str, Any]] = settings.DATABASES
    for alias in runner.aliases():
        if alias not in databases:
            continue
        connection = connections[alias]
        with dbguard.guarded(alias, timeout=conf.get().statement_timeout) as cursor:
            found = backends.get(connection.vendor).identity(connection, cursor)
        if found is None:
            db = databases[alias]
            options = db.get("OPTIONS") or {}
            found = (
                str(db.get("ENGINE")),
                str(db.get("HOST")),
                str(db.get("PORT") or ""),
                str(db.get("NAME")),
                str(options.get("options", "")),
                str(options.get("service", "")),
            )
        identities.append((alias, hashlib.sha256(repr(found).encode()).hexdigest()))
    return sorted(identities)
