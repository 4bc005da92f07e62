from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("zoo_pg", "0001_initial")]

    operations = [
        migrations.RunSQL("CREATE SCHEMA IF NOT EXISTS zoo_archive",
                          reverse_sql="DROP SCHEMA zoo_archive CASCADE"),
    ]
