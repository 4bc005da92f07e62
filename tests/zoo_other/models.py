"""Models a router keeps on the 'other' database."""

from django.db import models


class Ledger(models.Model):
    entry = models.CharField(max_length=40, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
