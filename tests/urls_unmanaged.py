"""One endpoint that lists an unmanaged, view-backed model (zoo.ActiveAnimal)."""

from django.urls import path
from django.views.generic import ListView

from tests.zoo.models import ActiveAnimal

urlpatterns = [
    path("animals/", ListView.as_view(model=ActiveAnimal), name="active-animals"),
]
