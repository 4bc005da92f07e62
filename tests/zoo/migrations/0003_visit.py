from django.db import migrations, models

import tests.zoo.models


class Migration(migrations.Migration):
    dependencies = [("zoo", "0002_active_animals_view")]

    operations = [
        migrations.CreateModel(
            name="Visit",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seen", models.DateTimeField()),
            ],
            options={
                "indexes": [
                    tests.zoo.models.NotOnSQLiteIndex(fields=["seen"], name="zoo_visit_seen_idx")
                ],
            },
        ),
    ]
