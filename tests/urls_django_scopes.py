"""An endpoint over a django-scopes model, as a multi-tenant site (pretix) has hundreds."""

from django.urls import path
from django.views.generic import ListView

from tests.scopesapp.models import Ticket


class Tickets(ListView):
    model = Ticket  # the queryset is made per request, inside the scope the request opens
    template_name = "about.html"


urlpatterns = [path("tickets/", Tickets.as_view(), name="tickets")]


class SlowToPlan:
    """A manager whose queryset takes longer to build than the whole smoke deadline (pretix's
    900 endpoints take about as long to plan)."""

    def all(self) -> object:
        import time

        time.sleep(0.4)
        return Ticket.objects.all()


class SlowTickets(ListView):
    queryset = SlowToPlan()
    template_name = "about.html"


slow_urlpatterns = [path("slow/", SlowTickets.as_view(), name="slow"), *urlpatterns]
