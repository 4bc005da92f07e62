"""A session store whose backing database accepts the query and never answers."""

import threading

from django.contrib.sessions.backends.db import SessionStore as DatabaseStore

RELEASE = threading.Event()  # set by the test when it is done


class SessionStore(DatabaseStore):
    def load(self) -> dict:
        RELEASE.wait(30)
        return {}
