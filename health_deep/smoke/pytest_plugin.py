"""``pytest --health-deep-record``: record the queries the site's own tests make its endpoints
run, into ``smoke.lock`` (``HEALTH_DEEP['SMOKE_LOCK']``, or ``--health-deep-record-to PATH``).

Loaded by pytest wherever health_deep is installed (an entry point), and idle unless asked:
then, once Django is set up (pytest-django), the recording middleware is appended to
``MIDDLEWARE`` for the run, every successful GET the test client sends is recorded, and the
lockfile is merged with what was recorded when the run ends. Review the diff and commit it.
"""

from __future__ import annotations

from typing import Any

import pytest

MIDDLEWARE = "health_deep.middleware.SmokeRecordingMiddleware"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("health_deep")
    group.addoption(
        "--health-deep-record",
        action="store_true",
        help="record the queries endpoints run into health_deep's smoke.lock",
    )
    group.addoption(
        "--health-deep-record-to",
        metavar="PATH",
        help="the smoke lockfile to write (default: HEALTH_DEEP['SMOKE_LOCK'])",
    )


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("health_deep_record"):
        return
    config.pluginmanager.register(_Recording(config), "health_deep_recording")


class _Recording:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: Any) -> None:
        from django.conf import settings

        from health_deep.smoke import recording

        if MIDDLEWARE not in settings.MIDDLEWARE:
            settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]
        recording.FORCED = True

    def pytest_sessionfinish(self, session: Any) -> None:
        from health_deep import conf
        from health_deep.smoke import lockfile, recording

        path = self.config.getoption("health_deep_record_to") or conf.get().smoke_lock
        recording.RECORDER.flush(path)  # each pytest-xdist worker merges its own, in turn
        recording.FORCED = False
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None or hasattr(self.config, "workerinput"):
            return  # a worker's output is not shown: the controller reports the whole
        try:
            held = lockfile.read(path)
        except lockfile.Invalid as exc:
            reporter.write_line(f"health_deep: {path} cannot be used: {exc}")
            return
        count = len(held.endpoints) if held is not None else 0
        reporter.write_line(f"health_deep: {path} holds {count} recorded endpoint(s)")
