from django.db import models


class Tag(models.Model):
    name = models.CharField(max_length=20, help_text="Shown on the page")
    colour = models.CharField(max_length=7, default="#000000")  # no migration adds it

    def __str__(self) -> str:
        return self.name
