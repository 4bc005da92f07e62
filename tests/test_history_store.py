"""The per-release store of migration code facts: what a fresh process loads instead of
importing and parsing every migration, and when it must not trust what it finds."""

from __future__ import annotations

import logging
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db.migrations.loader import MigrationLoader
from django.test.utils import override_settings

from health_deep import memo
from health_deep.history import graph, store

TESTAPP_MIGRATIONS = Path(__file__).parent / "testapp" / "migrations"


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "facts"
    with override_settings(HEALTH_DEEP={"CODE_FACTS_DIR": str(where)}):
        yield where


def a_fresh_process() -> None:
    """What a new worker starts from: nothing computed (the store on disk stays)."""
    memo.reset()


def no_loader(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    built: list[str] = []

    def refuse(self: MigrationLoader, *args: object, **kwargs: object) -> None:
        built.append("loader")
        raise AssertionError("the migration files were loaded")

    monkeypatch.setattr(MigrationLoader, "__init__", refuse)
    return built


def test_a_fresh_process_loads_the_facts_without_importing_a_migration(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worked_out = graph.code_facts()
    a_fresh_process()
    built = no_loader(monkeypatch)

    loaded = graph.code_facts()

    assert built == []
    assert loaded == worked_out
    assert [p.name.split("-")[0] for p in folder.glob("*.json")] == ["facts"]


def test_the_autodetector_verdict_is_kept_per_release(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    verdict = graph.missing_migrations()
    a_fresh_process()
    monkeypatch.setattr(graph, "find_changes", lambda: pytest.fail("the autodetector ran"))

    assert graph.missing_migrations() == verdict


def test_a_model_that_changed_is_judged_again(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph.missing_migrations()
    a_fresh_process()
    described = store.describe_models()
    monkeypatch.setattr(store, "describe_models", lambda: [*described, ("testapp.New",)])
    ran: list[bool] = []
    monkeypatch.setattr(graph, "find_changes", lambda: ran.append(True) or {})

    graph.missing_migrations()

    assert ran == [True]


@pytest.fixture
def own_migrations(folder: Path, tmp_path: Path) -> Iterator[Path]:
    """testapp's migrations as a package of their own, so a test can edit the files."""
    name = f"hd_store_{uuid.uuid4().hex[:8]}"
    package = tmp_path / "modules" / name
    shutil.copytree(TESTAPP_MIGRATIONS, package, ignore=shutil.ignore_patterns("__pycache__"))
    sys.path.insert(0, str(package.parent))
    try:
        with override_settings(MIGRATION_MODULES={"testapp": name}):
            yield package
    finally:
        sys.path.remove(str(package.parent))
        for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
            del sys.modules[module]


def test_an_edited_file_is_fingerprinted_again_and_only_that_one(
    own_migrations: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = graph.code_facts()
    edited = sorted(own_migrations.glob("0*.py"))[-1]
    edited.write_text(edited.read_text() + "\nEDITED = True\n")  # new bytes, new syntax tree
    for module in [m for m in sys.modules if m.startswith(own_migrations.name)]:
        del sys.modules[module]  # a new process imports the file as it is now
    a_fresh_process()
    fingerprinted: list[str] = []
    real = graph.fingerprint
    monkeypatch.setattr(graph, "fingerprint", lambda m: fingerprinted.append(m.name) or real(m))

    after = graph.code_facts()

    key = ("testapp", edited.stem)
    assert fingerprinted == [edited.stem]
    assert after.fingerprints[key] != before.fingerprints[key]
    assert {k: v for k, v in after.fingerprints.items() if k != key} == {
        k: v for k, v in before.fingerprints.items() if k != key
    }


def test_a_store_others_may_write_is_not_read(
    folder: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    graph.code_facts()
    folder.chmod(0o777)
    a_fresh_process()
    built = no_loader(monkeypatch)

    with caplog.at_level(logging.WARNING, logger="health_deep"), pytest.raises(AssertionError):
        graph.code_facts()

    assert built == ["loader"]  # worked out again, not taken from the folder
    assert "writable by others" in caplog.text


def test_a_damaged_record_is_worked_out_again(folder: Path) -> None:
    worked_out = graph.code_facts()
    for path in folder.glob("facts-*.json"):
        path.write_text('{"format": 1, "key": "' + path.stem[6:] + '", "nodes": 3}')
    a_fresh_process()

    assert graph.code_facts() == worked_out


def test_CODE_FACTS_DIR_False_keeps_nothing(tmp_path: Path) -> None:
    with override_settings(HEALTH_DEEP={"CODE_FACTS_DIR": False}):
        graph.code_facts()
        graph.missing_migrations()

        assert store.directory() is None
    assert list(tmp_path.iterdir()) == []


def test_the_default_folder_is_this_users_in_the_temporary_directory() -> None:
    folder = store.directory()

    assert folder is not None
    assert folder.name.startswith("health_deep-")
