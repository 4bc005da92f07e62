"""Thin django-health-check adapters: run a health_deep check, keep its findings, raise.

django-health-check runs sync checks in worker threads. Each adapter closes the connection
its thread opened, so probes do not leak one database connection per worker thread.
"""

from __future__ import annotations

import dataclasses

from django.db import connections
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable, ServiceWarning

from health_deep import runner
from health_deep.findings import Finding, Severity, summary


def raise_for(findings: list[Finding]) -> None:
    """Raise the django-health-check exception that matches the worst finding."""
    critical = [f for f in findings if f.severity is Severity.CRITICAL]
    if critical:
        raise ServiceUnavailable(summary(critical))
    warnings = [f for f in findings if f.severity is Severity.WARNING]
    if warnings:
        raise ServiceWarning(summary(warnings))


def _release(alias: str) -> None:
    if alias in connections:
        connection = connections[alias]
        if not connection.in_atomic_block:
            connection.close()


@dataclasses.dataclass
class Migrations(HealthCheck):
    """Migration integrity on one database: unapplied, unknown and edited migrations.

    ``include_code`` adds the code-only finding (models changed without a migration); the
    default view sets it on one alias only so it is reported once.
    """

    alias: str = "default"
    include_code: bool = dataclasses.field(default=True, repr=False)
    findings: list[Finding] = dataclasses.field(
        default_factory=list, init=False, repr=False, compare=False
    )

    def run(self) -> None:
        try:
            self.findings = runner.migration_findings(self.alias)
            if self.include_code:
                self.findings += runner.code_findings()
        finally:
            _release(self.alias)
        raise_for(self.findings)


@dataclasses.dataclass
class SchemaDrift(HealthCheck):
    """Schema drift on one database: the live catalog judged against what the models need."""

    alias: str = "default"
    findings: list[Finding] = dataclasses.field(
        default_factory=list, init=False, repr=False, compare=False
    )

    def run(self) -> None:
        try:
            self.findings = runner.schema_findings(self.alias)
        finally:
            _release(self.alias)
        raise_for(self.findings)


@dataclasses.dataclass
class SmokeQueries(HealthCheck):
    """Each endpoint's own query, run for one real row, read-only, under one deadline."""

    findings: list[Finding] = dataclasses.field(
        default_factory=list, init=False, repr=False, compare=False
    )

    def run(self) -> None:
        try:
            self.findings = runner.smoke_findings()
        finally:
            for alias in runner.aliases():
                _release(alias)
        raise_for(self.findings)
