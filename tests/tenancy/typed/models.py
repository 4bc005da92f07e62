"""The shared app of a django-tenants site with tenant types: each tenant's ``kind`` says
which apps its schema holds (``TENANT_TYPES``)."""

from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class Shop(TenantMixin):
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20)

    def __str__(self) -> str:
        return self.name


class Address(DomainMixin):
    def __str__(self) -> str:
        return str(self.domain)
