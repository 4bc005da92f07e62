from django.db import models


class Integration(models.Model):
    name = models.CharField(max_length=100)
    base_url = models.URLField(max_length=200)
    enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name
