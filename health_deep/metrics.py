"""The OpenMetrics answer: what a Prometheus user alerts on, from plain data.

``health_deep_up`` follows the HTTP verdict: 1 for a 200 (warnings included), 0 for a 503, so
an alert on it never fires for a warning. Each check has its status as one series per word
(``pass``, ``warn``, ``fail``: 1 for the current one), each finding id its count with its
severity, and the age of the result served, whether it was stale, how long the evaluation
behind it took and how long serving it took. ``health_deep_build`` names the versions. Finding
ids and check names are safe for anonymous callers; objects and messages never appear here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
STATUSES = ("pass", "warn", "fail")


@dataclasses.dataclass(frozen=True)
class CheckState:
    """One check's answer, as plain data."""

    name: str  # "Migrations(alias='default')"
    status: str  # pass, warn, fail
    findings: dict[tuple[str, str], int]  # (id, severity) -> count
    age: float
    stale: bool
    evaluation_seconds: float
    serve_seconds: float


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _family(name: str, kind: str, help_text: str) -> list[str]:
    return [f"# TYPE {name} {kind}", f"# HELP {name} {help_text}"]


def render(checks: Iterable[CheckState], *, up: bool, versions: dict[str, str]) -> str:
    """The whole exposition, ending with ``# EOF``."""
    checks = list(checks)
    lines = _family(
        "health_deep_up",
        "gauge",
        "1 when the endpoint answers 200 (warnings included), 0 when it answers 503.",
    )
    lines.append(f"health_deep_up {int(up)}")
    lines += _family(
        "health_deep_check_status",
        "gauge",
        "1 for the check's current status word (pass, warn, fail), 0 for others.",
    )
    for check in checks:
        for word in STATUSES:
            lines.append(
                f'health_deep_check_status{{check="{_label(check.name)}",'
                f'status="{word}"}} {int(check.status == word)}'
            )
    lines += _family(
        "health_deep_findings",
        "gauge",
        "How many findings of one id a check reports, with the id's severity.",
    )
    for check in checks:
        for (fid, severity), count in sorted(check.findings.items()):
            lines.append(
                f'health_deep_findings{{check="{_label(check.name)}",'
                f'id="{_label(fid)}",severity="{severity}"}} {count}'
            )
    per_check: list[tuple[str, str, Callable[[CheckState], str]]] = [
        (
            "health_deep_check_age_seconds",
            "Age of the result served (0: evaluated for this request).",
            lambda c: f"{c.age:.3f}",
        ),
        (
            "health_deep_check_stale",
            "1 when the result served is the last known one while a newer evaluation runs or "
            "ran out of time.",
            lambda c: str(int(c.stale)),
        ),
        (
            "health_deep_check_evaluation_seconds",
            "How long the evaluation behind the result took.",
            lambda c: f"{c.evaluation_seconds:.6f}",
        ),
        (
            "health_deep_check_serve_seconds",
            "How long answering this check took in this request (mostly a cache read).",
            lambda c: f"{c.serve_seconds:.6f}",
        ),
    ]
    for name, help_text, value in per_check:
        lines += _family(name, "gauge", help_text)
        lines += [f'{name}{{check="{_label(c.name)}"}} {value(c)}' for c in checks]
    if versions:  # only for callers allowed to see details
        lines += _family("health_deep_build", "gauge", "Versions of health_deep and Django (1).")
        labels = ",".join(f'{k}="{_label(v)}"' for k, v in sorted(versions.items()))
        lines.append(f"health_deep_build{{{labels}}} 1")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
