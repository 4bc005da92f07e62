"""Facts that depend only on the code, computed once per process and kept.

The migration graph, fingerprints, autodetector output and the expected schema do not change
while a process runs. They are computed lazily on first use (never in ``AppConfig.ready()``),
single-flight, and dropped by :func:`reset` (tests, and ``post_migrate`` in a long process).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.RLock()  # reentrant: one fact may be computed from another
_cache: dict[str, Any] = {}


def cached(name: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per process under ``name``; concurrent first callers wait for it."""
    if name in _cache:
        return _cache[name]  # type: ignore[no-any-return]
    with _lock:
        if name not in _cache:
            _cache[name] = compute()
        return _cache[name]  # type: ignore[no-any-return]


def reset() -> None:
    """Forget every cached fact: the next probe reads the code again."""
    with _lock:
        _cache.clear()
