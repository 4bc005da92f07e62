"""A multi-tenant model as django-scopes makes one: its manager refuses every query made
outside ``scope(organizer=...)``, which only a request's middleware opens."""

from django.db import models
from django_scopes import ScopedManager


class Ticket(models.Model):
    organizer = models.CharField(max_length=50)
    code = models.CharField(max_length=16)

    objects = ScopedManager(organizer="organizer")

    def __str__(self) -> str:
        return self.code
