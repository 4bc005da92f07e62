from django.urls import include, path
from django.views.generic import ListView

from tests.tenancy.notes.models import Note


class Notes(ListView):
    model = Note
    template_name = "about.html"


urlpatterns = [
    path("health/", include("health_deep.urls")),
    path("notes/", Notes.as_view(), name="notes"),
]
