"""A session store whose backing database is gone: every load raises."""

from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.db import OperationalError


class SessionStore(DatabaseStore):
    def load(self) -> dict:
        raise OperationalError("the session database is unreachable")
