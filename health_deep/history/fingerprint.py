"""Semantic fingerprints of migrations.

A fingerprint is a hash of what a migration *does*, as Django deconstructs it: its operations
with their arguments, its dependencies, and the code it runs (RunPython bodies, RunSQL text).
Formatting is not part of it: quotes, line breaks, comments, import order and trailing commas
all vanish because we hash values and syntax trees, never file bytes. The canonical form is a
plain JSON-able tree so the lockfile can print a readable difference between two versions.

A fingerprint has two parts: the semantic hash above, and a hash of the file's syntax tree
(comments, docstrings and formatting gone). A migration counts as edited only when both
changed. The semantic part alone can change with no edit at all: some migration files compute
values when they are imported, from the settings or even from the database (wagtail-localize's
first migration names a different model once a later wagtail migration is applied), so the
process that ran ``migrate`` and a later one load different operations from the same file.

Bump ``ALGORITHM`` whenever the canonical form changes; stored fingerprints carry the tag.
"""

from __future__ import annotations

import ast
import datetime
import decimal
import enum
import functools
import hashlib
import inspect
import json
import re
import sys
import textwrap
import types
import uuid
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

ALGORITHM = "hd2"

Canon = Any  # JSON-able: None, bool, int, float, str, list, dict[str, Canon]

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


_NO_SOURCE = "-"  # the file's source could not be read: only the semantic part counts


def fingerprint(migration: Any) -> str:
    """The fingerprint of a loaded ``Migration`` instance: ``hd2:<semantic>:<source>``."""
    return f"{ALGORITHM}:{_hash(canonical(migration))}:{source_hash(migration)}"


def _hash(canon: Canon) -> str:
    blob = json.dumps(canon, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def source_hash(migration: Any) -> str:
    """A hash of the migration file's syntax tree, or ``-`` when its source cannot be read."""
    tree = _Context(sys.modules.get(type(migration).__module__)).tree
    return _NO_SOURCE if tree is None else _hash(_tree(tree))


def unchanged(recorded: str, current: str) -> bool:
    """Whether the migration that had ``recorded`` is the one that has ``current`` now: the
    same operations, or the same file (its operations then depend on where it was loaded)."""
    if recorded == current:
        return True
    old, new = recorded.split(":"), current.split(":")
    if len(old) != 3 or len(new) != 3 or old[0] != new[0]:
        return False
    if old[1] == new[1]:
        return True
    return _NO_SOURCE not in (old[2], new[2]) and old[2] == new[2]


def canonical(migration: Any) -> dict[str, Canon]:
    """The formatting-free description of a migration that its fingerprint hashes.

    Worked out with no active language, as ``migrate`` (``@no_translations``) records it: a
    lazily translated ``verbose_name`` in a migration file must not read as an edit on a site
    whose language translates it.
    """
    from django.utils import translation

    module = sys.modules.get(type(migration).__module__)
    ctx = _Context(module)
    with translation.override(None):
        return {
            "dependencies": sorted(_value(list(d), ctx) for d in migration.dependencies),
            "replaces": sorted(_value(list(r), ctx) for r in migration.replaces),
            "run_before": sorted(_value(list(r), ctx) for r in migration.run_before),
            "atomic": bool(migration.atomic),
            "operations": [_operation(op, ctx) for op in migration.operations],
        }


class _Context:
    """What canonicalising one migration needs: its module, to tell local code from imports."""

    def __init__(self, module: types.ModuleType | None) -> None:
        self.module = module

    @functools.cached_property
    def tree(self) -> ast.Module | None:
        if self.module is None:
            return None
        try:
            return ast.parse(inspect.getsource(self.module))
        except (OSError, TypeError, SyntaxError):
            return None

    def is_local(self, func: Callable[..., Any]) -> bool:
        return self.module is not None and getattr(func, "__module__", None) == self.module.__name__


def _operation(op: Any, ctx: _Context) -> dict[str, Canon]:
    name, args, kwargs = op.deconstruct()
    canon_kwargs = {k: _value(v, ctx) for k, v in sorted(kwargs.items())}
    if name == "RunSQL":
        for key in ("sql", "reverse_sql"):
            if key in kwargs:
                canon_kwargs[key] = _sql(kwargs[key], ctx)
    return {"op": name, "args": [_value(a, ctx) for a in args], "kwargs": canon_kwargs}


def _sql(value: Any, ctx: _Context) -> Canon:
    """RunSQL text with whitespace outside string literals folded, so re-indenting is free."""
    if isinstance(value, str):
        return _fold_sql(value)
    if isinstance(value, list | tuple):
        return [_sql(v, ctx) for v in value]
    return _value(value, ctx)


_SQL_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\s+|[^'\"\s]+")


def _fold_sql(sql: str) -> str:
    parts = []
    for token in _SQL_TOKEN.findall(sql):
        parts.append(" " if token.isspace() else token)
    return "".join(parts).strip()


def _value(value: Any, ctx: _Context) -> Canon:
    """A canonical, JSON-able form of one value found in a migration."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return {"float": repr(value)}
    if isinstance(value, decimal.Decimal):
        return {"decimal": str(value)}
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if isinstance(value, enum.Enum):
        return {"enum": _path(type(value)), "value": _value(value.value, ctx)}
    if isinstance(value, datetime.date | datetime.time | datetime.timedelta | uuid.UUID):
        return {type(value).__name__: str(value)}
    if isinstance(value, PurePath):
        return {"path": str(value)}
    if isinstance(value, re.Pattern):
        return {"regex": value.pattern, "flags": int(value.flags)}
    if isinstance(value, list | tuple):
        return [_value(v, ctx) for v in value]
    if isinstance(value, set | frozenset):
        items = [_value(v, ctx) for v in value]
        return {"set": sorted(items, key=_sort_key)}
    if isinstance(value, dict):
        return {
            "dict": sorted(
                ([_value(k, ctx), _value(v, ctx)] for k, v in value.items()), key=_sort_key
            )
        }
    if isinstance(value, type):
        return {"class": _path(value)}
    if isinstance(value, functools.partial):
        return {
            "partial": _value(value.func, ctx),
            "args": _value(list(value.args), ctx),
            "kwargs": _value(dict(value.keywords), ctx),
        }
    if callable(value) and isinstance(
        value, types.FunctionType | types.MethodType | types.BuiltinFunctionType | staticmethod
    ):
        return _function(value, ctx)
    if hasattr(value, "deconstruct") and not isinstance(value, type):
        return _deconstructed(value, ctx)
    return {"repr": _ADDRESS.sub("", f"{_path(type(value))}:{value!r}")}


def _deconstructed(value: Any, ctx: _Context) -> Canon:
    # Fields return (name, path, args, kwargs); managers (as_manager, path, qs, args, kwargs);
    # everything else (path, args, kwargs). The last two items are always args and kwargs.
    parts = value.deconstruct()
    args, kwargs = parts[-2], parts[-1]
    head = [_value(p, ctx) for p in parts[1:-2]] if len(parts) > 3 else [parts[0]]
    if len(parts) == 5:
        head = [parts[0], parts[1], _value(parts[2], ctx)]
    return {
        "construct": head,
        "args": [_value(a, ctx) for a in args],
        "kwargs": {k: _value(v, ctx) for k, v in sorted(kwargs.items())},
    }


def _function(func: Any, ctx: _Context) -> Canon:
    """Code defined in the migration counts by its syntax tree; imported code by its name."""
    func = getattr(func, "__func__", func)
    if not ctx.is_local(func):
        return {"function": _path(func)}
    node = _local_node(func, ctx)
    if node is None:
        return {"function": _path(func)}
    return {"function": func.__qualname__, "body": _tree(node)}


def _local_node(func: Any, ctx: _Context) -> ast.AST | None:
    if func.__name__ != "<lambda>":
        try:
            source = textwrap.dedent(inspect.getsource(func))
            return ast.parse(source).body[0]
        except (OSError, TypeError, SyntaxError, IndexError):
            return None
    if ctx.tree is None:
        return None
    # A lambda has no source of its own: find it in the module by its first line.
    line = func.__code__.co_firstlineno
    found = [n for n in ast.walk(ctx.tree) if isinstance(n, ast.Lambda) and n.lineno == line]
    return found[0] if len(found) == 1 else None


_SKIP_FIELDS = {"ctx", "type_comment", "kind"}


def _tree(node: Any) -> Canon:
    """A syntax tree without positions, docstrings or empty fields, stable across Pythons."""
    if isinstance(node, ast.AST):
        body = getattr(node, "body", None)
        out: dict[str, Canon] = {"_": type(node).__name__}
        for name, child in ast.iter_fields(node):
            if name in _SKIP_FIELDS or child is None or child == []:
                continue
            if name == "body" and isinstance(body, list) and _has_docstring(node):
                child = body[1:]
            out[name] = _tree(child)
        return out
    if isinstance(node, list):
        return [_tree(n) for n in node]
    if isinstance(node, bytes | complex | type(Ellipsis)):
        return repr(node)
    if isinstance(node, float):
        return {"float": repr(node)}
    return node


def _has_docstring(node: ast.AST) -> bool:
    if not isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return False
    first = node.body[0] if node.body else None
    return (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )


def _path(obj: Any) -> str:
    module = getattr(obj, "__module__", None) or type(obj).__module__
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or repr(obj)
    return f"{module}.{name}"


def _sort_key(item: Canon) -> str:
    return json.dumps(item, sort_keys=True, default=str)
