from django.db import models


class Integration(models.Model):
    """A third-party service the API talks to (the incident's table)."""

    name = models.CharField(max_length=100, unique=True)
    base_url = models.URLField(max_length=200)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    settings = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return self.name


class Webhook(models.Model):
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="webhooks")
    event = models.CharField(max_length=50)
    target = models.URLField()

    def __str__(self) -> str:
        return f"{self.integration} {self.event}"
