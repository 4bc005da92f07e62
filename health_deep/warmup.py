"""Compute the code-only facts before the first probe needs them, in a background thread.

The first probe of a process otherwise pays for loading the migration graph, fingerprinting
every migration, working out the expected schema and discovering the endpoints (a few hundred
milliseconds on a large project). ``HEALTH_DEEP['WARM_UP'] = True`` starts this from
``AppConfig.ready()`` in a daemon thread; ``ready()`` itself does no work and no query.
"""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger("health_deep")


def warm_up() -> None:
    """Compute and keep every code-only fact now. Touches no database on SQLite/PostgreSQL."""
    from django.db import connections

    from health_deep import backends, runner
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
    except Exception:  # the first probe will report it as a finding; never crash a worker
        logger.exception("health_deep warm-up failed")


def start() -> threading.Thread:
    """Run :func:`warm_up` in a daemon thread."""
    thread = threading.Thread(target=warm_up, name="health_deep-warm-up", daemon=True)
    thread.start()
    return thread
