"""``manage.py health_deep probe URL``: a container health probe that reads the status code.

Docker's ``HEALTHCHECK`` runs a command and reads its exit code. This one asks a running
server for a health_deep endpoint and maps the answer: 200 is healthy (0), 503 is unhealthy
(1), anything else (no answer within the timeout, a refused connection, another status) is
"could not tell" (2), which Docker counts as unhealthy too. It needs no database and no
settings beyond the URL, so it works while the database is down.
"""

from __future__ import annotations

import http.client
import urllib.parse

HEALTHY, UNHEALTHY, UNKNOWN = 0, 1, 2


def probe(url: str, *, timeout: float, token: str | None = None) -> tuple[int, str]:
    """The exit code and a one-line summary for one GET of ``url``."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return UNKNOWN, f"not an http(s) URL: {url!r}"
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    headers = {"Accept": "text/plain", "User-Agent": "health_deep-probe"}
    if token:
        headers["X-Health-Token"] = token
    try:
        connection.request("GET", parts.path or "/", headers=headers)
        response = connection.getresponse()
        body = response.read(4096).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as exc:
        return UNKNOWN, f"no answer from {url}: {type(exc).__name__}: {exc}"
    finally:
        connection.close()
    first = body.strip().splitlines()[0] if body.strip() else ""
    if response.status == 200:
        return HEALTHY, f"{response.status} {first}".strip()
    if response.status == 503:
        return UNHEALTHY, f"{response.status} {first}".strip()
    return UNKNOWN, f"unexpected HTTP {response.status} from {url}"
