"""``path("health/", include("health_deep.urls"))``: /health/, /health/ready/, /health/live/."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from health_deep.views import HealthView, live

app_name = "health_deep"

# Probes never log in: exempt from Django's LoginRequiredMiddleware (which would answer 302,
# a success to a kubelet). Who sees details is decided by the view's own policy.
urlpatterns = [
    path("", login_not_required(HealthView.as_view(profile="deep")), name="deep"),
    path("ready/", login_not_required(HealthView.as_view(profile="ready")), name="ready"),
    path("live/", login_not_required(live), name="live"),
]
