"""A multi-tenant site's endpoints: one whose manager refuses every query outside a scope that
only a request opens (as django-scopes' ``ScopedManager`` does), beside an ordinary one."""

from django.urls import path
from django.views.generic import ListView

from tests.smokeapp.models import Book


class ScopeError(Exception):
    """django-scopes' exception, by name (the library is not needed to raise it)."""


class ScopedManager:
    def all(self) -> None:
        raise ScopeError("A scope on dimension(s) organizer needs to be active for this query.")


class Events(ListView):
    queryset = ScopedManager()
    template_name = "about.html"


class Books(ListView):
    model = Book
    template_name = "about.html"


urlpatterns = [
    path("events/", Events.as_view(), name="events"),
    path("books/", Books.as_view(), name="books"),
]
