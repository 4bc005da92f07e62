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

from health_deep import conf, memo

logger = logging.getLogger("health_deep")


def warm_up() -> None:
    """Compute and keep every code-only fact now. Touches no database on SQLite/PostgreSQL."""
    from django.db import connections

    from health_deep import backends, fleet, runner
    from health_deep.history import graph

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


def start() -> threading.Thread:
    """Run :func:`warm_up` in a daemon thread."""
    thread = threading.Thread(target=warm_up, name="health_deep-warm-up", daemon=True)
    thread.start()
    return thread


def start_once() -> None:
    """:func:`start`, once per process (again after a setting the facts depend on changed)."""
    memo.cached("fleet:warm-up", start)
