"""An endpoint whose model's manager writes when a queryset is built."""

from django.urls import path
from django.views.generic import ListView

from tests.smokeapp.models import NoisyBook

urlpatterns = [path("noisy/", ListView.as_view(model=NoisyBook), name="noisy")]
