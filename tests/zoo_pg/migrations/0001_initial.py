import django.contrib.postgres.operations
import django.contrib.postgres.constraints
import django.contrib.postgres.fields
import django.contrib.postgres.fields.hstore
import django.contrib.postgres.fields.ranges
import django.contrib.postgres.indexes
import django.contrib.postgres.search
import tests.zoo_pg.models
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
    ]

    operations = [
        django.contrib.postgres.operations.HStoreExtension(),
        django.contrib.postgres.operations.CITextExtension(),
        django.contrib.postgres.operations.BtreeGistExtension(),
        migrations.CreateModel(
            name='Enclosure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('tags', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=20), default=list, size=None)),
                ('grid', django.contrib.postgres.fields.ArrayField(base_field=django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), size=None), default=list, size=None)),
                ('attrs', django.contrib.postgres.fields.hstore.HStoreField(default=dict)),
                ('ints', django.contrib.postgres.fields.ranges.IntegerRangeField(null=True)),
                ('bigs', django.contrib.postgres.fields.ranges.BigIntegerRangeField(null=True)),
                ('money', django.contrib.postgres.fields.ranges.DecimalRangeField(null=True)),
                ('days', django.contrib.postgres.fields.ranges.DateRangeField(null=True)),
                ('booked', django.contrib.postgres.fields.ranges.DateTimeRangeField(null=True)),
                ('search', django.contrib.postgres.search.SearchVectorField(null=True)),
                ('handle', tests.zoo_pg.models.CIText(unique=True)),
                ('room', models.IntegerField(default=0)),
            ],
            options={
                'indexes': [django.contrib.postgres.indexes.GinIndex(fields=['tags'], name='zoo_pg_tags_gin'), django.contrib.postgres.indexes.GistIndex(fields=['booked'], name='zoo_pg_booked_gist'), django.contrib.postgres.indexes.BrinIndex(fields=['room'], name='zoo_pg_room_brin')],
                'constraints': [django.contrib.postgres.constraints.ExclusionConstraint(expressions=[('booked', '&&'), ('room', '=')], name='zoo_pg_no_double_booking')],
            },
        ),
    ]
