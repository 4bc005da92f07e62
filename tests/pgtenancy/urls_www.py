from django.urls import include, path
from django.views.generic import ListView

from tests.tenancy.ledger.models import Entry1  # type: ignore[attr-defined]


class Entries(ListView):
    model = Entry1
    template_name = "about.html"


urlpatterns = [
    path("health/", include("health_deep.urls")),
    path("entries/", Entries.as_view(), name="entries"),
]
