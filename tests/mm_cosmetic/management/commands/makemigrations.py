"""A site's own makemigrations, as pretix ships one: ``help_text`` is no change. It patches
``Field.deconstruct`` for the rest of the process, which is why it must never run in a
serving one."""

import os
from typing import Any

from django.core.management.commands.makemigrations import Command as Django
from django.db import models


class Command(Django):
    def handle(self, *args: Any, **options: Any) -> None:
        if os.environ.get("MM_COSMETIC_FAIL"):
            raise RuntimeError("the site's command is broken")
        original = models.Field.deconstruct

        def deconstruct(field: models.Field) -> Any:  # type: ignore[type-arg]
            name, path, args, kwargs = original(field)
            kwargs.pop("help_text", None)
            return name, path, args, kwargs

        models.Field.deconstruct = deconstruct  # type: ignore[method-assign]
        return super().handle(*args, **options)
