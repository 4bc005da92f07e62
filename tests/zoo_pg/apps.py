from django.apps import AppConfig


class ZooPgConfig(AppConfig):
    name = "tests.zoo_pg"
    label = "zoo_pg"
    default_auto_field = "django.db.models.BigAutoField"
