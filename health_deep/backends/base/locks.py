"""What a migration's statement does to the tables it touches, and how big they are: the data
the deploy plan weighs (:mod:`health_deep.rollout.locks`). Each vendor home says it for its own
statements (``postgresql/locks.py``, ``mysql/locks.py``); the plan never parses SQL itself."""

from __future__ import annotations

import dataclasses
from typing import Literal

Blocks = Literal["writes", "reads and writes"]
Work = Literal["index build", "validation scan", "table rewrite"]


@dataclasses.dataclass(frozen=True)
class Lock:
    """A statement that holds a lock on ``table`` for as long as its work on the table's rows
    takes: an index build, a scan that validates every row, a rewrite of the table."""

    table: str
    lock: str
    """The lock as the vendor names it (``SHARE``, ``ACCESS EXCLUSIVE``, ``ALGORITHM=COPY``)."""
    blocks: Blocks
    work: Work
    statement: str
    """What kind of statement it is, in a few words (``CREATE INDEX``, ``ADD FOREIGN KEY``)."""
    safe: str
    """The safe sequence: how to get the same result without the long lock."""
    also: tuple[str, ...] = ()
    """Other tables locked as long (a foreign key's target)."""


@dataclasses.dataclass(frozen=True)
class Size:
    """A table's size as the catalog estimates it (never counted: counting is the scan the
    plan warns about)."""

    rows: int | None
    """Estimated rows; None when the catalog has no estimate (never analyzed)."""
    bytes: int | None
    estimate: str
    """Where the numbers come from, for the finding's reader."""

    def rows_or_guess(self, *, row_bytes: int = 100) -> int:
        """The row estimate, or one made from the size on disk when there is none."""
        if self.rows is not None:
            return self.rows
        return (self.bytes or 0) // row_bytes
