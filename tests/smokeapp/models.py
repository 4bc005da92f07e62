"""A small library for the smoke-query tests: joins, a custom converter, shared querysets."""

import enum

from django.db import models


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


class PriorityField(models.IntegerField):
    """Reads the column into a Priority: a stored value it does not know raises."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else Priority(int(value))


class Publisher(models.Model):
    name = models.CharField(max_length=100)
    country = models.CharField(max_length=50, default="")


class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    publisher = models.ForeignKey(Publisher, on_delete=models.SET_NULL, null=True)
    priority = PriorityField(default=Priority.LOW)


class NoisyManager(models.Manager):
    """A manager with a side effect: it records every use (user code the probe must guard)."""

    def get_queryset(self):
        Publisher.objects.create(name="written while planning")
        return super().get_queryset()


class NoisyBook(Book):
    objects = NoisyManager()

    class Meta:
        proxy = True
