"""The semantic difference a reviewer reads: real changes named, formatting invisible."""

from __future__ import annotations

from pathlib import Path

import pytest

from health_deep.history.fingerprint import canonical
from health_deep.history.semantic_diff import describe
from tests.test_history_fingerprint import EDITS, ORIGINAL, REFORMATTED, load

EXPECTED = {
    "field option": "AddField integration.settings: field.max_length 100 -> 200",
    "field type": "AddField integration.settings: field CharField(",
    "field default": "AddField integration.settings: field.default '' -> '{}'",
    "added operation": "added operation DeleteModel Old",
    "removed operation": "removed operation RunPython",
    "RunSQL text": "WHERE settings IS NULL",
    "RunSQL string literal": "'a b'",
    "RunPython body": "RunPython: code: body of forwards changed",
    "lambda body": "RunPython: code: body of Migration.<lambda> changed",
    "dependency": "dependencies: + ('integrations', '0001_other')",
    "index name": "AddIndex integration: index.name 'integration_name_idx' -> 'integration_nm_idx'",
    "reverse code": "RunPython: reverse_code: removed",
}


@pytest.mark.parametrize(("what", "old", "new"), EDITS, ids=[e[0] for e in EDITS])
def test_each_semantic_edit_is_named(tmp_path: Path, what: str, old: str, new: str) -> None:
    before = canonical(load(tmp_path, ORIGINAL))
    after = canonical(load(tmp_path, ORIGINAL.replace(old, new, 1)))

    lines = describe(before, after)

    assert any(EXPECTED[what] in line for line in lines), lines
    assert len(lines) <= 2, lines  # the change, not a wall of noise


def test_reformatting_describes_nothing(tmp_path: Path) -> None:
    lines = describe(canonical(load(tmp_path, ORIGINAL)), canonical(load(tmp_path, REFORMATTED)))

    assert lines == []
