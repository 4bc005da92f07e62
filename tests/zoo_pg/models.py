"""PostgreSQL-only field types, constraints and indexes."""

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import (
    ArrayField,
    BigIntegerRangeField,
    DateRangeField,
    DateTimeRangeField,
    DecimalRangeField,
    HStoreField,
    IntegerRangeField,
    RangeOperators,
)
from django.contrib.postgres.indexes import BrinIndex, GinIndex, GistIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models


class CIText(models.TextField):
    """A case-insensitive text column from the citext extension."""

    def db_type(self, connection):
        return "citext"


class Enclosure(models.Model):
    tags = ArrayField(models.CharField(max_length=20), default=list)
    grid = ArrayField(ArrayField(models.IntegerField()), default=list)
    attrs = HStoreField(default=dict)
    ints = IntegerRangeField(null=True)
    bigs = BigIntegerRangeField(null=True)
    money = DecimalRangeField(null=True)
    days = DateRangeField(null=True)
    booked = DateTimeRangeField(null=True)
    search = SearchVectorField(null=True)
    handle = CIText(unique=True)
    room = models.IntegerField(default=0)

    class Meta:
        indexes = [
            GinIndex(fields=["tags"], name="zoo_pg_tags_gin"),
            GistIndex(fields=["booked"], name="zoo_pg_booked_gist"),
            BrinIndex(fields=["room"], name="zoo_pg_room_brin"),
        ]
        constraints = [
            ExclusionConstraint(
                name="zoo_pg_no_double_booking",
                expressions=[("booked", RangeOperators.OVERLAPS), ("room", RangeOperators.EQUAL)],
            ),
        ]


class Archived(models.Model):
    """A table in another PostgreSQL schema, named Django's way: 'schema"."table'."""

    # No foreign key to public: Django's flush (used between transactional tests) only sees
    # the search_path, and could not truncate a table that this one references.
    label = models.CharField(max_length=40)
    room = models.IntegerField(db_index=True)

    class Meta:
        db_table = 'zoo_archive"."zoo_archived'
