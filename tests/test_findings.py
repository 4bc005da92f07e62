"""The finding registry: ids are well formed, and the docs list exactly these."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from health_deep.findings import REGISTRY, Finding, Severity, status_of, summary

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "findings.md"


def test_the_reference_lists_every_finding_id_with_its_severity() -> None:
    rows = re.findall(r"^\| `(health_deep\.[A-Z]\d{3})` \| (\w+) \|", REFERENCE.read_text(), re.M)

    assert dict(rows) == {k.id: k.severity.label for k in REGISTRY.values()}


@pytest.mark.parametrize("kind", REGISTRY.values(), ids=lambda k: k.id)
def test_id_letter_matches_severity(kind: object) -> None:
    letter = kind.id.split(".")[1][0]  # type: ignore[attr-defined]

    assert {"E": Severity.CRITICAL, "W": Severity.WARNING, "I": Severity.INFO}[
        letter
    ] is kind.severity  # type: ignore[attr-defined]


def test_unregistered_id_is_refused() -> None:
    with pytest.raises(ValueError, match="unregistered"):
        Finding(id="health_deep.E999", object="x", message="x")


def test_status_and_summary_are_safe_to_show() -> None:
    findings = [
        Finding(id="health_deep.W102", object="secret_table.0001", message="m"),
        Finding(id="health_deep.E101", object="secret_table.0002", message="m"),
        Finding(id="health_deep.E101", object="secret_table.0003", message="m"),
    ]

    assert status_of(findings) == "fail"
    assert status_of(findings[:1]) == "warn"
    assert status_of([]) == "pass"
    assert summary(findings) == "health_deep.E101 x2, health_deep.W102"


def test_a_findings_details_cannot_change_and_survive_a_shared_cache() -> None:
    import pickle

    finding = Finding(id="health_deep.E202", object="t.c", message="m", details={"expected": "int"})

    with pytest.raises(TypeError):
        finding.details["expected"] = "text"  # type: ignore[index]
    copy = pickle.loads(pickle.dumps(finding))
    assert copy == finding and copy.details == {"expected": "int"}
    assert finding.as_dict()["details"] == {"expected": "int"}
