"""Semantic fingerprints: formatting changes nothing, meaning changes everything."""

from __future__ import annotations

import importlib.util
import itertools
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from health_deep.history.fingerprint import ALGORITHM, canonical, fingerprint

ORIGINAL = '''
from django.db import migrations, models


def forwards(apps, schema_editor):
    """Fill in the settings."""
    Integration = apps.get_model("integrations", "Integration")
    for row in Integration.objects.all():
        row.settings = "{}"
        row.save(update_fields=["settings"])


class Migration(migrations.Migration):
    dependencies = [("integrations", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="integration",
            name="settings",
            field=models.CharField(max_length=100, blank=True, default=""),
        ),
        migrations.AddIndex(
            model_name="integration",
            index=models.Index(fields=["name"], name="integration_name_idx"),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RunPython(lambda apps, editor: None),
        migrations.RunSQL(
            """
            UPDATE integrations_integration
               SET settings = 'a  b'
             WHERE settings = ''
            """,
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
'''

# What Black, isort and a human tidying up would do: no change in meaning.
REFORMATTED = '''
# This file was reformatted; comments do not count.
from django.db import models, migrations


def forwards(apps, schema_editor):
    """A reworded docstring does not change what runs."""
    Integration = apps.get_model('integrations', 'Integration')  # same call
    for row in Integration.objects.all():
        row.settings = '{}'
        row.save(update_fields=['settings'],)


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0001_initial'),
    ]

    operations = [
        migrations.AddField(model_name='integration', name='settings',
                            field=models.CharField(default='', blank=True, max_length=100)),
        migrations.AddIndex(model_name='integration',
                            index=models.Index(name='integration_name_idx', fields=['name'])),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RunPython(
            lambda apps, editor: None
        ),
        migrations.RunSQL("""UPDATE integrations_integration SET settings = 'a  b'
                             WHERE settings = ''""", reverse_sql=migrations.RunSQL.noop),
    ]
'''

# Each edit changes what the migration does. (name, old text, new text)
EDITS = [
    ("field option", "max_length=100", "max_length=200"),
    ("field type", "models.CharField(max_length=100", "models.TextField(max_length=100"),
    ("field default", 'default=""', 'default="{}"'),
    (
        "added operation",
        "    operations = [\n",
        '    operations = [\n        migrations.DeleteModel(name="Old"),\n',
    ),
    ("removed operation", "        migrations.RunPython(lambda apps, editor: None),\n", ""),
    ("RunSQL text", "WHERE settings = ''", "WHERE settings IS NULL"),
    ("RunSQL string literal", "'a  b'", "'a b'"),
    ("RunPython body", 'row.settings = "{}"', 'row.settings = "[]"'),
    ("lambda body", "lambda apps, editor: None", "lambda apps, editor: print(apps)"),
    ("dependency", '("integrations", "0001_initial")', '("integrations", "0001_other")'),
    ("index name", "integration_name_idx", "integration_nm_idx"),
    (
        "reverse code",
        "migrations.RunPython(forwards, migrations.RunPython.noop)",
        "migrations.RunPython(forwards)",
    ),
]

_counter = itertools.count()


def load(tmp_path: Path, source: str) -> Any:
    """Import a migration module from source, as Django's loader would, and instantiate it."""
    name = f"hd_fp_migration_{next(_counter)}"
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.Migration("0002_integration_settings", "integrations")


def test_reformatting_keeps_the_fingerprint(tmp_path: Path) -> None:
    from health_deep.history.fingerprint import unchanged

    original = fingerprint(load(tmp_path, ORIGINAL))
    reformatted = fingerprint(load(tmp_path, REFORMATTED))

    # The semantic part is the same; the file's tree may differ (import order, a constant
    # moved): still the same migration.
    assert reformatted.split(":")[1] == original.split(":")[1]
    assert unchanged(original, reformatted)


def test_fingerprint_is_tagged_with_the_algorithm(tmp_path: Path) -> None:
    assert fingerprint(load(tmp_path, ORIGINAL)).startswith(f"{ALGORITHM}:")


@pytest.mark.parametrize(("what", "old", "new"), EDITS, ids=[e[0] for e in EDITS])
def test_semantic_edit_changes_the_fingerprint(
    tmp_path: Path, what: str, old: str, new: str
) -> None:
    assert old in ORIGINAL, what
    edited = load(tmp_path, ORIGINAL.replace(old, new, 1))

    assert fingerprint(edited) != fingerprint(load(tmp_path, ORIGINAL))


def test_comment_inside_runpython_body_changes_nothing(tmp_path: Path) -> None:
    commented = ORIGINAL.replace(
        "    for row in Integration.objects.all():",
        "    # walk every row\n    for row in Integration.objects.all():  # all of them",
    )

    assert fingerprint(load(tmp_path, commented)) == fingerprint(load(tmp_path, ORIGINAL))


def test_canonical_form_has_no_memory_addresses(tmp_path: Path) -> None:
    text = json.dumps(canonical(load(tmp_path, ORIGINAL)))

    assert " at 0x" not in text
    assert "forwards" in text


def test_fingerprint_is_identical_across_processes_and_hash_seeds(tmp_path: Path) -> None:
    path = tmp_path / "hd_fp_cross.py"
    path.write_text(textwrap.dedent(ORIGINAL))
    script = (
        "import importlib.util, sys\n"
        "import django\nfrom django.conf import settings\n"
        "settings.configure(); django.setup()\n"
        f"spec = importlib.util.spec_from_file_location('hd_fp_cross', {str(path)!r})\n"
        "m = importlib.util.module_from_spec(spec); sys.modules['hd_fp_cross'] = m\n"
        "spec.loader.exec_module(m)\n"
        "from health_deep.history.fingerprint import fingerprint\n"
        "print(fingerprint(m.Migration('0002_x', 'integrations')))\n"
    )
    results = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": "", "PYTHONPATH": str(Path.cwd())},
        ).stdout.strip()
        for seed in ("1", "2", "12345")
    }

    assert len(results) == 1
    assert results.pop().startswith(f"{ALGORITHM}:")


def test_every_installed_migration_can_be_fingerprinted() -> None:
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)

    prints = {key: fingerprint(m) for key, m in loader.disk_migrations.items()}

    assert ("auth", "0001_initial") in prints
    assert len(set(prints.values())) == len(prints)  # distinct migrations, distinct prints


def test_a_lazily_translated_option_fingerprints_the_same_in_every_language() -> None:
    from django.db import migrations, models
    from django.utils import translation
    from django.utils.translation import gettext_lazy

    from health_deep.history.fingerprint import fingerprint

    class Migration(migrations.Migration):
        operations = [
            migrations.CreateModel(
                name="Member",
                fields=[("id", models.AutoField(primary_key=True))],
                options={
                    "verbose_name": gettext_lazy("user"),
                    "verbose_name_plural": gettext_lazy("users"),
                },
            )
        ]

    migration = Migration("0001_initial", "club")
    with translation.override(None):  # as migrate (@no_translations) records it
        recorded = fingerprint(migration)
    for language in ("de", "fr", "ja", "en-us"):
        with translation.override(language):
            assert fingerprint(migration) == recorded, language


def test_a_file_whose_operations_depend_on_where_it_is_loaded_is_not_edited(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # wagtail-localize's first migration names another model once a later wagtail migration
    # is applied: the process that ran migrate and a later one load different operations.
    import importlib.util
    import sys
    from pathlib import Path

    from health_deep.history.fingerprint import fingerprint, unchanged

    def load(variant: str, body: str) -> object:
        path = Path(str(tmp_path)) / f"m_{variant}.py"
        path.write_text(body)
        spec = importlib.util.spec_from_file_location(f"m_{variant}", path)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        monkeypatch.setitem(sys.modules, f"m_{variant}", module)
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        return module.Migration("0001_initial", "shelf")

    source = (
        "import os\nfrom django.db import migrations, models\n\n"
        "class Migration(migrations.Migration):\n"
        "    target = os.environ.get('HD_TARGET', 'shelf.Old')\n"
        "    operations = [migrations.AddField('book', 'owner', models.ForeignKey(\n"
        "        to=target, on_delete=models.CASCADE))]\n"
    )
    monkeypatch.setenv("HD_TARGET", "shelf.Old")
    at_migrate = fingerprint(load("a", source))
    monkeypatch.setenv("HD_TARGET", "shelf.New")
    later = fingerprint(load("b", source))
    edited = fingerprint(load("c", source.replace("CASCADE", "PROTECT")))

    assert at_migrate != later  # the operations differ ...
    assert unchanged(at_migrate, later)  # ... but the file does not: not an edit
    assert not unchanged(later, edited)  # a real edit changes both


def test_a_reformatted_file_is_unchanged() -> None:
    from health_deep.history.fingerprint import ALGORITHM, unchanged

    assert unchanged(f"{ALGORITHM}:aaa:bbb", f"{ALGORITHM}:aaa:ccc")  # same operations
    assert not unchanged(f"{ALGORITHM}:aaa:-", f"{ALGORITHM}:ddd:-")  # no source: semantics
    assert not unchanged("hd1:" + "a" * 64, f"{ALGORITHM}:aaa:bbb")  # another algorithm
