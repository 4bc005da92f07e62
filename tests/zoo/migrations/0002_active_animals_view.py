from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("zoo", "0001_initial")]

    operations = [
        migrations.RunSQL(
            """
            CREATE VIEW zoo_active_animals AS
            SELECT a.id, a.name, h.code AS habitat_code
              FROM zoo_animals_custom a JOIN zoo_habitat h ON h.id = a.habitat_id
             WHERE a.alive
            """,
            reverse_sql="DROP VIEW zoo_active_animals",
        ),
    ]
