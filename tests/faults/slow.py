"""A smoke query that sleeps on the PostgreSQL server for 5 s."""

from typing import Any


def sleeping_rows() -> Any:
    from django.db.models.expressions import RawSQL
    from integrations.models import Integration

    return Integration.objects.annotate(slept=RawSQL("SELECT pg_sleep(5)::text", []))
