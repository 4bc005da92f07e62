from django.db import models


class Note(models.Model):
    # The migration says "Text"; the site's own makemigrations ignores help_text (as pretix's).
    body = models.TextField(help_text="What the note says")

    def __str__(self) -> str:
        return self.body
