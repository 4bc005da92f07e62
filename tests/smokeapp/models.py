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
