"""Findings any check can end with, whatever it checks: an alias that is not configured, a
router that raised, no answer within the deadline, a first evaluation not finished yet, code
that could not be loaded, tenants' schemas that could not be read; and the warnings the site
acknowledged, shown as such."""

from __future__ import annotations

import logging

from django.db import DatabaseError

from health_deep import acknowledge, conf, dbguard
from health_deep.dbguard import failure_finding
from health_deep.findings import Finding
from health_deep.routing import RouterError

logger = logging.getLogger("health_deep")


def router_finding(alias: str, exc: RouterError) -> Finding:
    """A router that raises: health_deep cannot tell what lives where, and neither can Django."""
    cause = exc.__cause__ or exc
    logger.warning("health_deep: a database router raised in %s: %s", exc, type(cause).__name__)
    return Finding(
        id="health_deep.E004",
        alias=alias,
        object="DATABASE_ROUTERS",
        message=f"A database router raised {type(cause).__name__} in {exc}, so the checks on "
        f"'{alias}' could not decide which apps live there.",
        hint="Fix the router: Django calls the same method for every query and every migrate.",
        details={"error": type(cause).__name__, "detail": str(cause)[:500]},
    )


def deadline_finding(alias: str, check: str, deadline: float) -> Finding:
    """A check that gave no answer within the request deadline: unknown, so critical."""
    return Finding(
        id="health_deep.E003",
        alias=alias,
        object=alias or check,
        message=f"The {check} check gave no answer within the {deadline:g} s deadline.",
        hint="Its evaluation goes on in the background and the next probe gets its result; "
        "a slow database or a held lock is the usual cause.",
    )


def starting_finding(alias: str, check: str) -> Finding:
    """A check whose first evaluation in this process has not finished: not evaluated yet,
    which is not the same as unknown."""
    return Finding(
        id="health_deep.W005",
        alias=alias,
        object=alias or check,
        message=f"The {check} check is starting: its first evaluation in this process has not "
        "finished yet (the code facts it needs, then its queries); its verdict follows within "
        "seconds.",
        hint="/health/ready/ answers 503 until then. Running `manage.py migrate` or "
        "`manage.py health_deep` in the release keeps these facts for the next process.",
    )


def unknown_alias(alias: str) -> Finding:
    return Finding(
        id="health_deep.E001",
        alias=alias,
        object="HEALTH_DEEP['DATABASES']",
        message=f"Database alias '{alias}' is not in settings.DATABASES.",
        hint="Fix HEALTH_DEEP['DATABASES'].",
    )


def broken_code(
    alias: str,
    exc: BaseException,
    *,
    what: str = "migration graph",
    message: str = "The migration files could not be loaded.",
    hint: str = "Run `manage.py showmigrations` to see the error.",
) -> Finding:
    """``E004`` for code that could not be loaded or worked out (the error stays in details)."""
    return Finding(
        id="health_deep.E004",
        alias=alias,
        object=what,
        message=message,
        hint=hint,
        details={"error": type(exc).__name__, "detail": str(exc)[:500]},
    )


def acknowledged(findings: list[Finding]) -> list[Finding]:
    """``findings`` with the warnings the site acknowledged shown as ``I006``."""
    rules = conf.get().acknowledge
    return acknowledge.apply(findings, rules) if rules else findings


def tenants_unread(alias: str, check: str, exc: DatabaseError) -> list[Finding]:
    """The tenants' schemas could not be read. Before the first migrate the tenants' own
    table is not there yet (migrate runs these checks first): there is no tenant to judge."""
    if dbguard.classify(exc) is dbguard.Failure.MISSING_TABLE:
        return []
    return [failure_finding(alias, check, exc)]
