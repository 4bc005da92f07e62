"""The one place that reads the ``HEALTH_DEEP`` setting.

Every key has a default, so a plain install needs no setting. Values are validated by
:func:`problems`, which the configuration system check reports as ``health_deep.E001``;
at request time a broken setting falls back to the defaults rather than raising.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings

DETAILS_POLICIES = ("never", "authorized", "always")


@dataclasses.dataclass(frozen=True)
class Config:
    """Validated ``HEALTH_DEEP`` values. ``token`` is kept out of ``repr()``."""

    databases: tuple[str, ...] | None = None
    ignore_apps: tuple[str, ...] = ()
    check_missing_migrations: bool = True
    statement_timeout: float = 0.5
    details: str = "authorized"
    token: str | None = dataclasses.field(default=None, repr=False)
    details_ips: tuple[str, ...] = ()
    lockfile: str = "migrations.lock"
    smoke_deadline: float = 0.5
    smoke_queries: Any = None  # {URL name: callable or dotted path}, see smoke.registry
    smoke_exclude: tuple[str, ...] = ()  # URL names or route prefixes to leave out
    cache_ttl: float = 5.0
    deadline: float = 0.9
    cache_alias: str | None = None
    warm_up: bool = False
    max_age: float | None = None  # None: see stale_limit
    extra_checks: tuple[Any, ...] = ()  # django-health-check checks /health/ runs too
    code_facts_dir: str | bool | None = None  # None: a folder in the temp dir; False: off
    acknowledge: Any = dataclasses.field(default_factory=dict)  # {warning id: [objects]}
    tenants_ready_share: float = 0.5  # /health/ready/ fails when more tenants than this are broken
    tenants: Any = None  # another schema-per-tenant scheme, see tenants.custom
    smoke_lock: str = "smoke.lock"  # recorded queries of the endpoints (smoke/lockfile.py)
    record_smoke: bool = False  # the recording middleware records (staging, never production)
    plan_warn_rows: int = 1_000_000  # plan: a long lock on a table this big is a warning
    plan_critical_rows: int = 10_000_000  # ...and on one this big, critical

    @property
    def stale_limit(self) -> float:
        """How old a served result may be before the answer is "unknown" (E003) instead.
        By default three TTLs, and never less than three deadlines."""
        if self.max_age is not None:
            return self.max_age
        return max(3 * self.cache_ttl, 3 * self.deadline)

    @property
    def abandon_after(self) -> float:
        """How long an evaluation may wait on its databases before it is abandoned (its
        connections cut, a fresh one started): far past what its statements may take."""
        return 2 * self.deadline + 4 * self.statement_timeout + self.smoke_deadline


def _str_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise TypeError
    return tuple(value)


def normalised_ip(value: str) -> str:
    """An address as compared: ``::1`` for ``0:0::1``, and an IPv4-mapped IPv6 address
    (``::ffff:10.0.0.7``, what a dual-stack socket reports) as the IPv4 address it maps."""
    address = ipaddress.ip_address(value)
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


def _ip_tuple(value: Any) -> tuple[str, ...]:
    return tuple(normalised_ip(v) for v in _str_tuple(value))


def _optional_aliases(value: Any) -> tuple[str, ...] | None:
    return None if value is None else _str_tuple(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError
    return value


def _positive_seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 60:
        raise ValueError
    return float(value)


def _rows(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError
    return value


def _share(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError
    return float(value)


def _seconds_or_zero(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 3600:
        raise ValueError
    return float(value)


def _optional_seconds(value: Any) -> float | None:
    return None if value is None else _positive_seconds_long(value)


def _positive_seconds_long(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 3600:
        raise ValueError
    return float(value)


def _checks(value: Any) -> tuple[Any, ...]:
    """django-health-check's own ``checks=`` form: a dotted path or a class, or a pair of
    one and its keyword arguments."""
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        raise TypeError
    for item in value:
        target, options = item if isinstance(item, tuple) and len(item) == 2 else (item, {})
        if not isinstance(target, str | type) or not isinstance(options, dict):
            raise TypeError
    return tuple(value)


def _cache_alias(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in getattr(settings, "CACHES", {}):
        raise ValueError
    return value


def _policy(value: Any) -> str:
    if value not in DETAILS_POLICIES:
        raise ValueError
    return str(value)


def _token(value: Any) -> str | None:
    if value is None:
        return None
    # A header carries printable ASCII without surrounding spaces: any other token could
    # never be presented, so it is refused here rather than failing every comparison.
    if (
        not isinstance(value, str)
        or len(value) < 16
        or value != value.strip()
        or not (value.isascii() and value.isprintable())
    ):
        raise ValueError
    return value


def _folder_or_off(value: Any) -> str | bool | None:
    if value is None or value is False:
        return value
    return _path(value)


def _acknowledgements(value: Any) -> dict[str, tuple[str, ...]]:
    from health_deep import acknowledge

    if acknowledge.problems(value):
        raise ValueError
    return {str(k): tuple(v) for k, v in value.items()}


class _Invalid(ValueError):
    """A value with problems of its own to name, each a sentence."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def _tenants(value: Any) -> Any:
    found = [] if value is None else _tenant_problems(value)
    if found:
        raise _Invalid(found)
    return value


_TENANT_KEYS = {
    "APPS",
    "SCHEMAS",
    "SCHEMAS_SQL",
    "SHARED_APPS",
    "DATABASE",
    "SHARED_SCHEMA",
    "EXTRA_SEARCH_PATH",
}


def _tenant_problems(value: object) -> list[str]:
    """What is wrong with a ``TENANTS`` value's shape, as sentences (empty when it is valid).
    Its names are resolved later, by the configuration system check
    (:func:`health_deep.tenants.custom.unresolved`)."""
    where = "HEALTH_DEEP['TENANTS']"
    if not isinstance(value, Mapping):
        return [f"{where} must be a dict (see the multi-tenant documentation)"]
    found = [
        f"{where}[{key!r}] is not a known key" for key in sorted(set(value) - _TENANT_KEYS, key=str)
    ]
    if not _names_list(value.get("APPS")) or not value.get("APPS"):
        found.append(f"{where}['APPS'] must be a non-empty list of apps")
    if ("SCHEMAS" in value) == ("SCHEMAS_SQL" in value):
        found.append(f"{where} needs one of 'SCHEMAS' (a callable) or 'SCHEMAS_SQL' (a SELECT)")
    sql = value.get("SCHEMAS_SQL")
    if sql is not None and not (
        isinstance(sql, str) and sql.lstrip().upper().startswith(("SELECT", "WITH"))
    ):
        found.append(f"{where}['SCHEMAS_SQL'] must be a SELECT statement")
    schemas = value.get("SCHEMAS")
    if schemas is not None and not (isinstance(schemas, str) or callable(schemas)):
        found.append(f"{where}['SCHEMAS'] must be a callable or its dotted path")
    for key in ("SHARED_APPS", "EXTRA_SEARCH_PATH"):
        if key in value and not _names_list(value[key]):
            found.append(f"{where}[{key!r}] must be a list of names")
    for key in ("DATABASE", "SHARED_SCHEMA"):
        if key in value and not (isinstance(value[key], str) and value[key]):
            found.append(f"{where}[{key!r}] must be a name")
    return found


def _names_list(value: object) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(v, str) and v for v in value)


def _any(value: Any) -> Any:
    return value  # checked by its own system check, which can import and resolve it


def _path(value: Any) -> str:
    if not isinstance(value, str | os.PathLike) or not str(value):
        raise TypeError
    return str(value)


# key -> (field name, parser, what a valid value looks like)
_KEYS: dict[str, tuple[str, Callable[[Any], Any], str]] = {
    "DATABASES": ("databases", _optional_aliases, "None or a list of database aliases"),
    "IGNORE_APPS": ("ignore_apps", _str_tuple, "a list of app labels"),
    "CHECK_MISSING_MIGRATIONS": ("check_missing_migrations", _bool, "True or False"),
    "STATEMENT_TIMEOUT": ("statement_timeout", _positive_seconds, "seconds, >0 and <=60"),
    "DETAILS": ("details", _policy, "one of " + ", ".join(DETAILS_POLICIES)),
    "TOKEN": ("token", _token, "None or 16+ printable ASCII characters, no surrounding spaces"),
    "DETAILS_IPS": ("details_ips", _ip_tuple, "a list of IP addresses"),
    "LOCKFILE": ("lockfile", _path, "a file path"),
    "SMOKE_DEADLINE": ("smoke_deadline", _positive_seconds, "seconds, >0 and <=60"),
    "TENANTS_READY_SHARE": ("tenants_ready_share", _share, "a share of tenants, 0 to 1"),
    "PLAN_WARN_ROWS": ("plan_warn_rows", _rows, "a number of rows, 0 or more"),
    "PLAN_CRITICAL_ROWS": ("plan_critical_rows", _rows, "a number of rows, 0 or more"),
    "TENANTS": (
        "tenants",
        _tenants,
        "None or a dict with 'APPS' and one of 'SCHEMAS' or 'SCHEMAS_SQL' (see the "
        "multi-tenant documentation)",
    ),
    "SMOKE_QUERIES": ("smoke_queries", _any, "a dict of URL name -> callable"),
    "SMOKE_EXCLUDE": ("smoke_exclude", _str_tuple, "a list of URL names or route prefixes"),
    "SMOKE_LOCK": ("smoke_lock", _path, "a file path"),
    "RECORD_SMOKE": ("record_smoke", _bool, "True or False"),
    "CACHE_TTL": ("cache_ttl", _seconds_or_zero, "seconds, >=0 and <=3600"),
    "DEADLINE": ("deadline", _positive_seconds, "seconds, >0 and <=60"),
    "CACHE_ALIAS": ("cache_alias", _cache_alias, "None or a name in settings.CACHES"),
    "WARM_UP": ("warm_up", _bool, "True or False"),
    "MAX_AGE": ("max_age", _optional_seconds, "None or seconds, >0 and <=3600"),
    "CODE_FACTS_DIR": (
        "code_facts_dir",
        _folder_or_off,
        "None (a folder in the temporary directory), a folder path, or False (keep nothing)",
    ),
    "ACKNOWLEDGE": (
        "acknowledge",
        _acknowledgements,
        "a dict of warning id -> list of objects (app labels for W106; '*' for all)",
    ),
    "EXTRA_CHECKS": (
        "extra_checks",
        _checks,
        "a list of django-health-check checks: dotted paths or classes, or (path, {options}) pairs",
    ),
}


def _parse(raw: Any) -> tuple[Config, list[str]]:
    if raw is None:
        return Config(), []
    if not isinstance(raw, dict):
        return Config(), ["HEALTH_DEEP must be a dict"]
    values: dict[str, Any] = {}
    errors: list[str] = []
    for key in sorted(set(raw) - set(_KEYS), key=str):
        errors.append(f"HEALTH_DEEP[{key!r}] is not a known key")
    for key, (field, parse, expected) in _KEYS.items():
        if key not in raw:
            continue
        try:
            values[field] = parse(raw[key])
        except _Invalid as exc:
            errors += exc.messages
        except (TypeError, ValueError):
            errors.append(f"HEALTH_DEEP[{key!r}] must be {expected}")
    config = Config(**values)
    if config.plan_critical_rows < config.plan_warn_rows:
        errors.append("HEALTH_DEEP['PLAN_CRITICAL_ROWS'] must be at least PLAN_WARN_ROWS")
    return config, errors


def problems() -> list[str]:
    """Every problem with the current ``HEALTH_DEEP`` setting, as readable sentences."""
    return _parse(getattr(settings, "HEALTH_DEEP", None))[1]


_parsed: Config | None = None  # forgotten by memo's setting_changed receiver


def get() -> Config:
    """The current configuration; keys that fail validation keep their defaults. Parsed once
    (probes call this several times per request) and forgotten when a setting changes."""
    global _parsed
    config = _parsed
    if config is None:
        config = _parsed = _parse(getattr(settings, "HEALTH_DEEP", None))[0]
    return config


def forget() -> None:
    """Parse the setting again on next use (``memo.forget`` calls this)."""
    global _parsed
    _parsed = None


def aliases() -> list[str]:
    """The database aliases to check: ``HEALTH_DEEP['DATABASES']`` or every configured one."""
    chosen = get().databases
    return list(settings.DATABASES) if chosen is None else list(chosen)
