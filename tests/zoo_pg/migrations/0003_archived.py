from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('zoo_pg', '0002_archive_schema'),
    ]

    operations = [
        migrations.CreateModel(
            name='Archived',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('label', models.CharField(max_length=40)),
                ('room', models.IntegerField(db_index=True)),
            ],
            options={
                'db_table': 'zoo_archive"."zoo_archived',
            },
        ),
    ]
