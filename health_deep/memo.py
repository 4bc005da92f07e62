"""Facts that depend only on the code, computed once per process and kept.

The migration graph, fingerprints, autodetector output and the expected schema do not change
while a process runs. They are computed lazily on first use (never in ``AppConfig.ready()``),
single-flight per fact (a slow fact never holds up another), and dropped by :func:`reset`
(tests, and ``post_migrate`` in a long process).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()  # guards the two dicts below, never held while computing
_locks: dict[str, threading.RLock] = {}  # one per fact; reentrant: a fact may need itself
_cache: dict[str, Any] = {}


def cached(name: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per process under ``name``; concurrent first callers of the same
    name wait for it, callers of other names do not."""
    if name in _cache:
        return _cache[name]  # type: ignore[no-any-return]
    with _lock:
        fact_lock = _locks.setdefault(name, threading.RLock())
    with fact_lock:
        if name not in _cache:
            value = compute()
            with _lock:
                _cache[name] = value
        return _cache[name]  # type: ignore[no-any-return]


def reset() -> None:
    """Forget every cached fact: the next probe reads the code again."""
    with _lock:
        _cache.clear()
