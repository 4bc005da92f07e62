from django.apps import AppConfig


class SmokeAppConfig(AppConfig):
    name = "tests.smokeapp"
    label = "smokeapp"
    default_auto_field = "django.db.models.BigAutoField"
