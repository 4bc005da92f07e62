from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
    ]

    operations = [
        migrations.CreateModel(
            name='LedgerEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('app', models.CharField(max_length=255)),
                ('name', models.CharField(max_length=255)),
                ('fingerprint', models.CharField(max_length=80)),
                ('source', models.CharField(choices=[('applied', 'applied by migrate'), ('adopted', 'adopted as baseline'), ('accepted', 'edit accepted')], max_length=16)),
                ('recorded_at', models.DateTimeField()),
                ('recorded_by', models.CharField(blank=True, default='', max_length=150)),
                ('reason', models.TextField(blank=True, default='')),
            ],
            options={
                'verbose_name': 'migration fingerprint',
                'db_table': 'health_deep_ledger',
                'constraints': [models.UniqueConstraint(fields=('app', 'name'), name='health_deep_ledger_app_name')],
            },
        ),
    ]
