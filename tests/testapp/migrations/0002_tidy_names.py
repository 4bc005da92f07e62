from django.db import migrations


def disable_unnamed(apps, schema_editor):
    """Integrations without a name cannot be called: switch them off."""
    Integration = apps.get_model("testapp", "Integration")
    Integration.objects.filter(name="").update(enabled=False)


class Migration(migrations.Migration):
    dependencies = [("testapp", "0001_initial")]

    operations = [
        migrations.RunPython(disable_unnamed, migrations.RunPython.noop),
        migrations.RunSQL("SELECT 1", reverse_sql=migrations.RunSQL.noop),
    ]
