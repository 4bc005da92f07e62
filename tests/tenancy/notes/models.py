"""A tenant app: its tables exist in every tenant's schema and never in ``public``."""

from django.db import models


class Note(models.Model):
    title = models.CharField(max_length=100)
    body = models.TextField(default="")

    def __str__(self) -> str:
        return self.title
