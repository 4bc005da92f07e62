"""The migration fingerprint ledger: the only table health_deep owns.

Written by ``post_migrate`` and by ``manage.py health_deep accept``, never by a probe.
"""

from __future__ import annotations

from django.db import models


class LedgerEntry(models.Model):
    """The semantic fingerprint a migration had when it was applied (or adopted, or accepted)."""

    class Source(models.TextChoices):
        APPLIED = "applied", "applied by migrate"
        ADOPTED = "adopted", "adopted as baseline"
        ACCEPTED = "accepted", "edit accepted"

    app = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=80)
    source = models.CharField(max_length=16, choices=Source.choices)
    recorded_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=150, blank=True, default="")
    reason = models.TextField(blank=True, default="")

    class Meta:
        db_table = "health_deep_ledger"
        constraints = [
            models.UniqueConstraint(fields=["app", "name"], name="health_deep_ledger_app_name"),
        ]
        verbose_name = "migration fingerprint"

    def __str__(self) -> str:
        return f"{self.app}.{self.name} {self.fingerprint[:16]} ({self.source})"
