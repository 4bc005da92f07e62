from django.apps import AppConfig


class ZooOtherConfig(AppConfig):
    name = "tests.zoo_other"
    label = "zoo_other"
    default_auto_field = "django.db.models.BigAutoField"
