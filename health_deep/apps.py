from __future__ import annotations

from django.apps import AppConfig


class HealthDeepConfig(AppConfig):
    name = "health_deep"
    verbose_name = "health_deep"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Wiring only: nothing here touches the database or reads migration files.
        from django.db.models.signals import post_migrate

        from health_deep import memo, system_checks  # noqa: F401  (registers the checks and

        # memo's setting_changed receiver, the one way cached state is forgotten)
        from health_deep.history.ledger import record_after_migrate

        post_migrate.connect(record_after_migrate, sender=self, dispatch_uid="health_deep.ledger")
        from health_deep.history.graph import keep_for_next_process

        post_migrate.connect(keep_for_next_process, sender=self, dispatch_uid="health_deep.store")

        import os

        from health_deep import conf
        from health_deep.history.sitecommand import CHILD_ENV

        # A child that only asks the site's makemigrations for its verdict serves nothing.
        if conf.get().warm_up and not os.environ.get(CHILD_ENV):
            from health_deep import warmup

            warmup.start_once()
