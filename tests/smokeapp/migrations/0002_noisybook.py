from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("smokeapp", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="NoisyBook",
            fields=[],
            options={"proxy": True, "indexes": [], "constraints": []},
            bases=("smokeapp.book",),
        ),
    ]
