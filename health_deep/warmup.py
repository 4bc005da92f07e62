"""Work out the code-only facts before probes need them, in one background thread.

A fresh process otherwise pays for them in its first probes: the migration facts (loaded from
the code-facts store when this release was seen before, see
:mod:`health_deep.history.store`), the autodetector's verdict, the expected schema, the
endpoints, and, with fleet sharing on, the fleet scope (a probe never computes it: until it is
known, results are simply not shared). ``HEALTH_DEEP['WARM_UP'] = True`` starts this from
``AppConfig.ready()``; otherwise the first probe that needs the scope starts it.
``ready()`` itself does no work and no query.
"""

from __future__ import annotations

import logging
import threading
import time

from health_deep import conf, memo

logger = logging.getLogger("health_deep")


def warm_up() -> None:
    """Compute and keep every code-only fact now. Touches no database on SQLite/PostgreSQL,
    except, with fleet sharing on, one read-only query per database for its identity."""
    from django.db import connections

    from health_deep import backends, dbguard, fleet, runner
    from health_deep.history import graph

    line = dbguard.Line(seconds=conf.get().abandon_after)  # its own connections, bounded
    try:
        graph.code_facts()
        runner.code_findings()  # the autodetector, when CHECK_MISSING_MIGRATIONS is on
        for alias in runner.aliases():
            # MySQL asks the server for its version to state column types: not here.
            vendor = connections[alias].vendor if alias in connections else ""
            if (
                backends.supports_schema(vendor)
                and not backends.get(vendor).features.types_need_server
            ):
                runner.expected_schema(alias)
        # Discovery only: planning runs the site's managers, which happens under the guard
        # on the first evaluation, never from a thread of an unrelated command.
        runner.smoke_endpoints()
        if conf.get().cache_alias:
            fleet.scope()
    except Exception:  # the first probe will report it as a finding; never crash a worker
        logger.exception("health_deep warm-up failed")
    finally:
        line.close()


def start() -> threading.Thread:
    """Run :func:`warm_up` in a daemon thread."""
    thread = threading.Thread(target=warm_up, name="health_deep-warm-up", daemon=True)
    thread.start()
    return thread


_lock = threading.Lock()  # one start at a time
RETRY = 30.0  # seconds before a warm-up that left the fleet scope unknown runs again


def start_once() -> None:
    """:func:`start`, once per process (again after a setting the facts depend on changed,
    and every ``RETRY`` seconds while the fleet scope is still unknown: a database that did
    not answer at start-up must not turn sharing off for the life of the process)."""
    state = memo.record("fleet:warm-up")
    with _lock:
        thread: threading.Thread | None = state.get("thread")
        if thread is not None and (thread.is_alive() or time.monotonic() - state["at"] < RETRY):
            return
        if thread is not None and memo.peek("fleet:scope") is not None:
            return
        state["thread"], state["at"] = start(), time.monotonic()
