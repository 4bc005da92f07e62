"""What changed in a migration, in words, from two canonical forms (see ``fingerprint``).

Because both sides are formatting-free trees, the difference names only real changes:
``AddField integration.base_url: max_length 100 -> 200``, never a moved comma.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

Canon = Any

_MAX = 80


def describe(old: dict[str, Canon], new: dict[str, Canon]) -> list[str]:
    """Readable lines for every semantic difference between two canonical migrations."""
    lines: list[str] = []
    for key in ("dependencies", "replaces", "run_before"):
        lines += _list_change(key, old.get(key, []), new.get(key, []))
    if old.get("atomic") != new.get("atomic"):
        lines.append(f"atomic: {old.get('atomic')} -> {new.get('atomic')}")
    lines += _operations(old.get("operations", []), new.get("operations", []))
    return lines


def _list_change(label: str, old: list[Canon], new: list[Canon]) -> list[str]:
    old_set = {_render(v) for v in old}
    new_set = {_render(v) for v in new}
    return [f"{label}: + {v}" for v in sorted(new_set - old_set)] + [
        f"{label}: - {v}" for v in sorted(old_set - new_set)
    ]


def _operations(old: list[Canon], new: list[Canon]) -> list[str]:
    lines: list[str] = []
    keys = (
        [json.dumps(o, sort_keys=True) for o in old],
        [json.dumps(o, sort_keys=True) for o in new],
    )
    matcher = difflib.SequenceMatcher(a=keys[0], b=keys[1], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        removed, added = old[i1:i2], new[j1:j2]
        # Pair an operation with its edited self (same kind, same target) before calling it
        # removed and added.
        while removed and added and _identity(removed[0]) == _identity(added[0]):
            lines += _changed(removed.pop(0), added.pop(0))
        lines += [f"removed operation {_title(op)}" for op in removed]
        lines += [f"added operation {_title(op)}" for op in added]
    return lines


def _identity(op: Canon) -> tuple[str, str]:
    return op.get("op", "?"), _target(op)


def _target(op: Canon) -> str:
    kwargs = op.get("kwargs", {})
    model, name = kwargs.get("model_name"), kwargs.get("name")
    parts = [p for p in (model, name) if isinstance(p, str)]
    return ".".join(parts)


def _title(op: Canon) -> str:
    target = _target(op)
    return f"{op.get('op', '?')} {target}".rstrip()


def _changed(old: Canon, new: Canon) -> list[str]:
    diffs = _walk(old.get("kwargs", {}), new.get("kwargs", {}), "")
    diffs += _walk(old.get("args", []), new.get("args", []), "args")
    return [f"{_title(new)}: {d}" for d in diffs] or [f"{_title(new)}: changed"]


def _walk(old: Canon, new: Canon, path: str) -> list[str]:
    """Differences between two canonical values, as 'path old -> new' phrases."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        if "construct" in old and "construct" in new and old["construct"] == new["construct"]:
            return _walk(old.get("kwargs", {}), new.get("kwargs", {}), path) + _walk(
                old.get("args", []), new.get("args", []), _join(path, "args")
            )
        if "function" in old and "function" in new and old["function"] == new["function"]:
            return [f"{path or 'code'}: body of {old['function']} changed"]
        if set(old) - {"construct"} and not ("construct" in old or "construct" in new):
            out: list[str] = []
            for key in sorted(set(old) | set(new)):
                if key not in old:
                    out.append(f"{_join(path, key)}: added {_render(new[key])}")
                elif key not in new:
                    out.append(f"{_join(path, key)}: removed (was {_render(old[key])})")
                else:
                    out += _walk(old[key], new[key], _join(path, key))
            return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            out += _walk(a, b, _join(path, _element_name(a, index)))
        return out
    return [f"{path or 'value'} {_render(old)} -> {_render(new)}"]


def _element_name(value: Canon, index: int) -> str:
    # CreateModel fields are (name, field) pairs: name them, not number them.
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
        return value[0]
    return str(index)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _render(value: Canon) -> str:
    """A short, Python-like rendering of a canonical value."""
    if isinstance(value, dict):
        if "construct" in value:
            head = value["construct"]
            name = str(head[0] if isinstance(head, list) else head).rsplit(".", 1)[-1]
            args = [_render(a) for a in value.get("args", [])]
            args += [f"{k}={_render(v)}" for k, v in value.get("kwargs", {}).items()]
            return _short(f"{name}({', '.join(args)})")
        if "function" in value:
            return str(value["function"])
        if len(value) == 1:
            return _render(next(iter(value.values())))
        return _short(json.dumps(value, sort_keys=True))
    if isinstance(value, list):
        return _short("(" + ", ".join(_render(v) for v in value) + ")")
    return _short(repr(value))


def _short(text: str) -> str:
    return text if len(text) <= _MAX else text[: _MAX - 3] + "..."
