"""What one check knows of every tenant schema in this process (no I/O).

A check reads a digest of each tenant schema (its applied migrations, its catalog entries).
Schemas with the same digest are in the same *state* and share one verdict, worked out once
per process from one of them: the code does not change while the process runs, so a verdict
stands as long as the digest does. Reading thousands of schemas is split into slices, one per
evaluation in turn, so an evaluation costs the same whatever the number of tenants; what is
known of the other schemas is what their last read said.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable

from health_deep.findings import Finding

State = tuple[str, str]
"""A schema's kind name and digest."""


@dataclasses.dataclass
class Survey:
    states: dict[str, State] = dataclasses.field(default_factory=dict)
    """Each schema's state as last read and judged."""
    verdicts: dict[State, tuple[Finding, ...]] = dataclasses.field(default_factory=dict)
    """A state's findings, as the shared schema's check would give them for one schema."""
    offset: int = 0
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)

    def next_slice(self, schemas: list[str], size: int) -> list[str]:
        """The next ``size`` of ``schemas`` in turn (all of them when they fit)."""
        if size >= len(schemas):
            return list(schemas)
        start = self.offset % len(schemas)
        self.offset = start + size
        return (schemas[start:] + schemas[:start])[:size]

    def keep_only(self, schemas: Iterable[str]) -> None:
        """Forget the schemas that are no longer tenants'."""
        current = set(schemas)
        for gone in set(self.states) - current:
            del self.states[gone]

    def read(self, states: dict[str, State]) -> None:
        """Note each schema's state, as a read found it."""
        self.states.update(states)

    def waiting(self) -> list[State]:
        """The states read that have no verdict yet, the one with most schemas first."""
        counts: dict[State, int] = {}
        for state in self.states.values():
            if state not in self.verdicts:
                counts[state] = counts.get(state, 0) + 1
        return sorted(counts, key=lambda s: (-counts[s], s))

    def judged(self, state: State, findings: Iterable[Finding]) -> None:
        self.verdicts[state] = tuple(findings)

    def groups(self) -> list[tuple[State, list[str]]]:
        """The judged states and their schemas, the state with most schemas first."""
        by_state: dict[State, list[str]] = {}
        for schema, state in sorted(self.states.items()):
            if state in self.verdicts:
                by_state.setdefault(state, []).append(schema)
        return sorted(by_state.items(), key=lambda item: -len(item[1]))

    def unknown(self, schemas: Iterable[str]) -> list[str]:
        """Those of ``schemas`` with no verdict yet: not read, or in a state not judged."""
        return [s for s in schemas if self.states.get(s) not in self.verdicts]


def representatives(survey: Survey, waiting: list[State], limit: int) -> dict[str, State]:
    """One schema for each of the first ``limit`` states waiting for a verdict."""
    wanted = set(waiting[:limit])
    found: dict[str, State] = {}
    for schema, state in sorted(survey.states.items()):
        if state in wanted and state not in found.values():
            found[schema] = state
    return found
