"""The integrity rules on plain data: no database, no files."""

from __future__ import annotations

import datetime

from health_deep.findings import Severity
from health_deep.history.fingerprint import ALGORITHM
from health_deep.history.graph import CodeFacts
from health_deep.history.integrity import LedgerRow, evaluate

A1, A2, A3 = ("shop", "0001_initial"), ("shop", "0002_price"), ("shop", "0003_stock")
SQUASH = ("shop", "0001_squashed_0002")


def facts(*keys: tuple[str, str], replaces: dict | None = None) -> CodeFacts:
    replaces = replaces or {}
    replaced = {k for ks in replaces.values() for k in ks}
    return CodeFacts(
        nodes=frozenset(k for k in keys if k not in replaced),
        fingerprints={k: f"{ALGORITHM}:{k[1]}:-" for k in keys},
        replaces=replaces,
    )


def ledger_for(*keys: tuple[str, str], source: str = "applied") -> dict:
    return {k: LedgerRow(fingerprint=f"{ALGORITHM}:{k[1]}:-", source=source) for k in keys}


def ids(findings: list) -> list[str]:
    return [f.id for f in findings]


def test_clean_history_has_no_findings() -> None:
    found = evaluate(
        alias="default", facts=facts(A1, A2), recorded={A1, A2}, ledger=ledger_for(A1, A2)
    )

    assert found == []


def test_E101_unapplied_migration_is_critical() -> None:
    found = evaluate(
        alias="default", facts=facts(A1, A2, A3), recorded={A1, A2}, ledger=ledger_for(A1, A2)
    )

    assert ids(found) == ["health_deep.E101"]
    assert found[0].object == "shop.0003_stock"
    assert found[0].severity is Severity.CRITICAL


def test_W102_migration_unknown_to_code_is_only_a_warning() -> None:
    found = evaluate(alias="default", facts=facts(A1), recorded={A1, A2}, ledger=ledger_for(A1, A2))

    assert ids(found) == ["health_deep.W102"]
    assert found[0].severity is Severity.WARNING


def test_E103_fingerprint_mismatch_is_critical_with_both_prints_in_details() -> None:
    ledger = ledger_for(A1, A2)
    ledger[A2] = LedgerRow(
        fingerprint=f"{ALGORITHM}:older:-",
        source="applied",
        recorded_at=datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC),
    )

    found = evaluate(alias="default", facts=facts(A1, A2), recorded={A1, A2}, ledger=ledger)

    assert ids(found) == ["health_deep.E103"]
    assert found[0].details["recorded_fingerprint"] == f"{ALGORITHM}:older:-"
    assert found[0].details["current_fingerprint"] == f"{ALGORITHM}:0002_price:-"


def test_I104_applied_without_fingerprint_is_info() -> None:
    found = evaluate(alias="default", facts=facts(A1, A2), recorded={A1, A2}, ledger=ledger_for(A1))

    assert ids(found) == ["health_deep.I104"]
    assert found[0].details["migrations"] == ["shop.0002_price"]


def test_I105_adopted_baseline_is_reported_once_per_alias() -> None:
    found = evaluate(
        alias="default",
        facts=facts(A1, A2),
        recorded={A1, A2},
        ledger=ledger_for(A1, A2, source="adopted"),
    )

    assert ids(found) == ["health_deep.I105"]
    assert found[0].details["migrations"] == ["shop.0001_initial", "shop.0002_price"]


def test_I107_older_algorithm_is_not_compared() -> None:
    ledger = {A1: LedgerRow(fingerprint="hd0:whatever", source="applied")}

    found = evaluate(alias="default", facts=facts(A1), recorded={A1}, ledger=ledger)

    assert ids(found) == ["health_deep.I107"]


def test_I109_accepted_edit_is_reported_with_who_and_why() -> None:
    ledger = {
        A1: LedgerRow(
            fingerprint=f"{ALGORITHM}:0001_initial:-",
            source="accepted",
            recorded_by="ops",
            reason="index renamed by hand",
        )
    }

    found = evaluate(alias="default", facts=facts(A1), recorded={A1}, ledger=ledger)

    assert ids(found) == ["health_deep.I109"]
    assert found[0].details["accepted_by"] == "ops"


def test_no_ledger_means_no_edit_check_but_still_unapplied() -> None:
    found = evaluate(alias="default", facts=facts(A1, A2), recorded={A1}, ledger=None)

    assert ids(found) == ["health_deep.E101"]


def test_squash_counts_as_applied_when_everything_it_replaces_is() -> None:
    code = facts(A1, A2, SQUASH, replaces={SQUASH: (A1, A2)})

    found = evaluate(alias="default", facts=code, recorded={A1, A2}, ledger=ledger_for(A1, A2))

    assert found == []


def test_partly_applied_squash_is_unapplied() -> None:
    code = facts(A1, A2, SQUASH, replaces={SQUASH: (A1, A2)})

    found = evaluate(alias="default", facts=code, recorded={A1}, ledger=ledger_for(A1))

    assert ids(found) == ["health_deep.E101"]
    assert found[0].object == "shop.0001_squashed_0002"


def test_replaced_rows_left_after_deleting_squashed_files_are_not_unknown() -> None:
    code = CodeFacts(
        nodes=frozenset({SQUASH}),
        fingerprints={SQUASH: f"{ALGORITHM}:0001_squashed_0002:-"},
        replaces={SQUASH: (A1, A2)},
    )

    found = evaluate(alias="default", facts=code, recorded={A1, A2}, ledger=ledger_for(A1, A2))

    assert found == []


def test_apps_excluded_by_router_or_setting_are_ignored() -> None:
    found = evaluate(
        alias="other",
        facts=facts(A1, ("blog", "0001_initial")),
        recorded={A1},
        ledger=ledger_for(A1),
        include_app=lambda app: app != "blog",
    )

    assert found == []
