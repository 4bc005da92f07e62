from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_remove_entry19_active")]

    operations = [
        migrations.AlterField(model_name="entry19", name="when", field=models.DateTimeField()),
    ]
