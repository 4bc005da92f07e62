"""The tenant and domain models of a django-pgschemas site, in ``public``."""

from django_pgschemas.models import TenantModel
from django_pgschemas.routing.models import DomainModel


class Tenant(TenantModel):
    pass


class Domain(DomainModel):
    pass
