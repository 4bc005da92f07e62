"""Every built-in field type and Meta feature, for the zero-false-positive test."""

import uuid

from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Lower, Now


class Keeper(models.Model):
    id = models.SmallAutoField(primary_key=True)
    name = models.CharField(max_length=80, unique=True)
    badge = models.CharField(max_length=20, db_index=True)


class Habitat(models.Model):
    id = models.AutoField(primary_key=True)
    code = models.CharField(max_length=10, unique=True)
    climate = models.CharField(max_length=20, choices=[("hot", "Hot"), ("cold", "Cold")])


class Base(models.Model):
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class Animal(Base):
    # Every built-in concrete field type (ImageField needs Pillow; FileField covers it).
    name = models.CharField(max_length=100)
    big = models.BigIntegerField(default=0)
    blob = models.BinaryField(null=True)
    alive = models.BooleanField(default=True)
    born = models.DateField(null=True)
    weight = models.DecimalField(max_digits=8, decimal_places=3, null=True)
    lifespan = models.DurationField(null=True)
    email = models.EmailField(blank=True)
    photo = models.FileField(upload_to="animals/", blank=True)
    path = models.FilePathField(path="/tmp", blank=True)
    ratio = models.FloatField(null=True)
    ip = models.GenericIPAddressField(null=True)
    count = models.IntegerField(default=0)
    meta = models.JSONField(default=dict)
    huge = models.PositiveBigIntegerField(default=0)
    legs = models.PositiveIntegerField(default=4)
    eyes = models.PositiveSmallIntegerField(default=2)
    slug = models.SlugField(max_length=60, unique=True)
    small = models.SmallIntegerField(default=0)
    notes = models.TextField(blank=True)
    feeding = models.TimeField(null=True)
    site = models.URLField(blank=True)
    uid = models.UUIDField(default=uuid.uuid4, unique=True)
    # Columns and defaults the database states itself.
    legacy_code = models.CharField(max_length=12, db_column="LegacyCode", blank=True)
    seen = models.DateTimeField(db_default=Now())
    status = models.CharField(max_length=10, db_default=Value("new"))
    shouted = models.GeneratedField(
        expression=Lower("name"), output_field=models.CharField(max_length=100), db_persist=True
    )
    # Relations.
    habitat = models.ForeignKey(Habitat, on_delete=models.PROTECT, related_name="animals")
    habitat_by_code = models.ForeignKey(
        Habitat, on_delete=models.SET_NULL, null=True, to_field="code", related_name="+"
    )
    keeper = models.ForeignKey(Keeper, on_delete=models.CASCADE, db_index=False, null=True)
    loose = models.ForeignKey(
        Keeper, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    mother = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True)
    friends = models.ManyToManyField("self", blank=True)
    tags = models.ManyToManyField("Tag", blank=True)
    carers = models.ManyToManyField(Keeper, through="Care", related_name="cared")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, null=True)
    object_id = models.PositiveIntegerField(null=True)
    subject = GenericForeignKey("content_type", "object_id")

    class Meta:
        db_table = "zoo_animals_custom"
        unique_together = [("habitat", "name")]
        indexes = [
            models.Index(fields=["big"], name="zoo_big_idx"),
            models.Index(fields=["born", "-count"], name="zoo_born_count_idx"),
            models.Index(fields=["ratio"], name="zoo_alive_ratio_idx", condition=Q(alive=True)),
            models.Index(Lower("name"), name="zoo_lower_name_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["email"], name="zoo_unique_email", condition=~Q(email="")
            ),
            models.UniqueConstraint(Lower("slug"), name="zoo_unique_lower_slug"),
            models.UniqueConstraint(fields=["keeper", "small"], name="zoo_keeper_small_uniq"),
            models.CheckConstraint(condition=Q(count__gte=0), name="zoo_count_gte_0"),
            models.CheckConstraint(condition=Q(big__gte=F("small")), name="zoo_big_gte_small"),
        ]


class Mammal(Animal):
    """Multi-table inheritance: a child table with a parent link."""

    fur = models.CharField(max_length=30, blank=True)


class Pet(Animal):
    class Meta:
        proxy = True


class Tag(models.Model):
    label = models.CharField(max_length=30, unique=True)
    notes = GenericRelation("Note")


class Care(models.Model):
    animal = models.ForeignKey(Animal, on_delete=models.CASCADE)
    keeper = models.ForeignKey(Keeper, on_delete=models.CASCADE)
    since = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["animal", "keeper"], name="zoo_care_uniq")]


class Note(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey()
    text = models.TextField()


class ActiveAnimal(models.Model):
    """Unmanaged, over a view that a migration creates with RunSQL."""

    name = models.CharField(max_length=100)
    habitat_code = models.CharField(max_length=10)

    class Meta:
        managed = False
        db_table = "zoo_active_animals"


class NotOnSQLiteIndex(models.Index):
    """An index a site builds on its production database only (pretix's BRIN indexes): its own
    create_sql() gives nothing on SQLite, so migrate builds nothing there."""

    def create_sql(self, model, schema_editor, *args, **kwargs):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "sqlite":
            return ""
        return super().create_sql(model, schema_editor, *args, **kwargs)

    def remove_sql(self, model, schema_editor, **kwargs):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "sqlite":
            return ""
        return super().remove_sql(model, schema_editor, **kwargs)


class Visit(models.Model):
    seen = models.DateTimeField()

    class Meta:
        indexes = [NotOnSQLiteIndex(fields=["seen"], name="zoo_visit_seen_idx")]

    def __str__(self) -> str:
        return str(self.seen)
