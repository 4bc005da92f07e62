"""Warnings the site has acknowledged: shown as info (``I006``), never dropped.

A site cannot fix a third-party app's models (pretix ships model changes without migrations:
W106 on every stock install), and a warning that stays forever gets the health check ignored
or uninstalled. ``HEALTH_DEEP['ACKNOWLEDGE']`` maps a warning's id to the objects it is
acknowledged for (app labels for W106, the finding's object otherwise; ``"*"`` for all): such
a finding is reported as ``I006``, with the original id, message and details, so the site's
own warnings still stand out. Critical findings cannot be acknowledged: they mean an outage.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from health_deep.findings import REGISTRY, Finding, Severity

ACKNOWLEDGED = "health_deep.I006"


def problems(rules: object) -> list[str]:
    """What is wrong with an ``ACKNOWLEDGE`` value, as sentences (empty when it is valid)."""
    if not isinstance(rules, Mapping):
        return ["HEALTH_DEEP['ACKNOWLEDGE'] must be a dict of finding id -> list of objects"]
    found = []
    for fid, objects in rules.items():
        kind = REGISTRY.get(fid) if isinstance(fid, str) else None
        if kind is None:
            found.append(f"HEALTH_DEEP['ACKNOWLEDGE'] names {fid!r}, which is no finding id")
        elif kind.severity is not Severity.WARNING:
            found.append(
                f"HEALTH_DEEP['ACKNOWLEDGE'] names {fid}, which is not a warning: only "
                "warnings can be acknowledged"
            )
        if isinstance(objects, str) or not (
            isinstance(objects, list | tuple) and all(isinstance(o, str) for o in objects)
        ):
            found.append(f"HEALTH_DEEP['ACKNOWLEDGE'][{fid!r}] must be a list of objects")
    return found


def apply(findings: Iterable[Finding], rules: Mapping[str, Iterable[str]]) -> list[Finding]:
    """``findings`` with the acknowledged warnings turned into ``I006``."""
    wanted = {fid: set(objects) for fid, objects in rules.items()}
    result = []
    for finding in findings:
        objects = wanted.get(finding.id)
        if (
            objects is None
            or finding.severity is not Severity.WARNING
            or not ({"*", finding.object} & objects)
        ):
            result.append(finding)
            continue
        result.append(
            dataclasses.replace(
                finding,
                id=ACKNOWLEDGED,
                message=f"Acknowledged {finding.id}: {finding.message}",
                hint="Acknowledged in HEALTH_DEEP['ACKNOWLEDGE']; remove the entry to see it "
                "as a warning again.",
                details={**finding.details, "acknowledged": finding.id},
            )
        )
    return result
