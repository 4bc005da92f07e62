import django.db.models.deletion
import django.db.models.functions.datetime
import django.db.models.functions.text
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.CreateModel(
            name='ActiveAnimal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100)),
                ('habitat_code', models.CharField(max_length=10)),
            ],
            options={
                'db_table': 'zoo_active_animals',
                'managed': False,
            },
        ),
        migrations.CreateModel(
            name='Animal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created', models.DateTimeField(auto_now_add=True)),
                ('name', models.CharField(max_length=100)),
                ('big', models.BigIntegerField(default=0)),
                ('blob', models.BinaryField(null=True)),
                ('alive', models.BooleanField(default=True)),
                ('born', models.DateField(null=True)),
                ('weight', models.DecimalField(decimal_places=3, max_digits=8, null=True)),
                ('lifespan', models.DurationField(null=True)),
                ('email', models.EmailField(blank=True, max_length=254)),
                ('photo', models.FileField(blank=True, upload_to='animals/')),
                ('path', models.FilePathField(blank=True, path='/tmp')),
                ('ratio', models.FloatField(null=True)),
                ('ip', models.GenericIPAddressField(null=True)),
                ('count', models.IntegerField(default=0)),
                ('meta', models.JSONField(default=dict)),
                ('huge', models.PositiveBigIntegerField(default=0)),
                ('legs', models.PositiveIntegerField(default=4)),
                ('eyes', models.PositiveSmallIntegerField(default=2)),
                ('slug', models.SlugField(max_length=60, unique=True)),
                ('small', models.SmallIntegerField(default=0)),
                ('notes', models.TextField(blank=True)),
                ('feeding', models.TimeField(null=True)),
                ('site', models.URLField(blank=True)),
                ('uid', models.UUIDField(default=uuid.uuid4, unique=True)),
                ('legacy_code', models.CharField(blank=True, db_column='LegacyCode', max_length=12)),
                ('seen', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ('status', models.CharField(db_default=models.Value('new'), max_length=10)),
                ('shouted', models.GeneratedField(db_persist=True, expression=django.db.models.functions.text.Lower('name'), output_field=models.CharField(max_length=100))),
                ('object_id', models.PositiveIntegerField(null=True)),
                ('content_type', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, to='contenttypes.contenttype')),
                ('friends', models.ManyToManyField(blank=True, to='zoo.animal')),
                ('mother', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to='zoo.animal')),
            ],
            options={
                'db_table': 'zoo_animals_custom',
            },
        ),
        migrations.CreateModel(
            name='Habitat',
            fields=[
                ('id', models.AutoField(primary_key=True, serialize=False)),
                ('code', models.CharField(max_length=10, unique=True)),
                ('climate', models.CharField(choices=[('hot', 'Hot'), ('cold', 'Cold')], max_length=20)),
            ],
        ),
        migrations.CreateModel(
            name='Keeper',
            fields=[
                ('id', models.SmallAutoField(primary_key=True, serialize=False)),
                ('name', models.CharField(max_length=80, unique=True)),
                ('badge', models.CharField(db_index=True, max_length=20)),
            ],
        ),
        migrations.CreateModel(
            name='Tag',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('label', models.CharField(max_length=30, unique=True)),
            ],
        ),
        migrations.CreateModel(
            name='Mammal',
            fields=[
                ('animal_ptr', models.OneToOneField(auto_created=True, on_delete=django.db.models.deletion.CASCADE, parent_link=True, primary_key=True, serialize=False, to='zoo.animal')),
                ('fur', models.CharField(blank=True, max_length=30)),
            ],
            options={
                'abstract': False,
            },
            bases=('zoo.animal',),
        ),
        migrations.CreateModel(
            name='Pet',
            fields=[
            ],
            options={
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('zoo.animal',),
        ),
        migrations.AddField(
            model_name='animal',
            name='habitat',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='animals', to='zoo.habitat'),
        ),
        migrations.AddField(
            model_name='animal',
            name='habitat_by_code',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='zoo.habitat', to_field='code'),
        ),
        migrations.CreateModel(
            name='Care',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('since', models.DateField()),
                ('animal', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='zoo.animal')),
                ('keeper', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='zoo.keeper')),
            ],
        ),
        migrations.AddField(
            model_name='animal',
            name='carers',
            field=models.ManyToManyField(related_name='cared', through='zoo.Care', to='zoo.keeper'),
        ),
        migrations.AddField(
            model_name='animal',
            name='keeper',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, to='zoo.keeper'),
        ),
        migrations.AddField(
            model_name='animal',
            name='loose',
            field=models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='zoo.keeper'),
        ),
        migrations.CreateModel(
            name='Note',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('object_id', models.PositiveBigIntegerField()),
                ('text', models.TextField()),
                ('content_type', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='contenttypes.contenttype')),
            ],
        ),
        migrations.AddField(
            model_name='animal',
            name='tags',
            field=models.ManyToManyField(blank=True, to='zoo.tag'),
        ),
        migrations.AddConstraint(
            model_name='care',
            constraint=models.UniqueConstraint(fields=('animal', 'keeper'), name='zoo_care_uniq'),
        ),
        migrations.AddIndex(
            model_name='animal',
            index=models.Index(fields=['big'], name='zoo_big_idx'),
        ),
        migrations.AddIndex(
            model_name='animal',
            index=models.Index(fields=['born', '-count'], name='zoo_born_count_idx'),
        ),
        migrations.AddIndex(
            model_name='animal',
            index=models.Index(condition=models.Q(('alive', True)), fields=['ratio'], name='zoo_alive_ratio_idx'),
        ),
        migrations.AddIndex(
            model_name='animal',
            index=models.Index(django.db.models.functions.text.Lower('name'), name='zoo_lower_name_idx'),
        ),
        migrations.AddConstraint(
            model_name='animal',
            constraint=models.UniqueConstraint(condition=models.Q(('email', ''), _negated=True), fields=('email',), name='zoo_unique_email'),
        ),
        migrations.AddConstraint(
            model_name='animal',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower('slug'), name='zoo_unique_lower_slug'),
        ),
        migrations.AddConstraint(
            model_name='animal',
            constraint=models.UniqueConstraint(fields=('keeper', 'small'), name='zoo_keeper_small_uniq'),
        ),
        migrations.AddConstraint(
            model_name='animal',
            constraint=models.CheckConstraint(condition=models.Q(('count__gte', 0)), name='zoo_count_gte_0'),
        ),
        migrations.AddConstraint(
            model_name='animal',
            constraint=models.CheckConstraint(condition=models.Q(('big__gte', models.F('small'))), name='zoo_big_gte_small'),
        ),
        migrations.AlterUniqueTogether(
            name='animal',
            unique_together={('habitat', 'name')},
        ),
    ]
