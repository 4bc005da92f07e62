"""``path("health/", include("health_deep.urls"))``: /health/, /health/ready/, /health/live/."""

from django.urls import path

from health_deep.views import HealthView

app_name = "health_deep"

urlpatterns = [
    path("", HealthView.as_view(profile="deep"), name="deep"),
    path("ready/", HealthView.as_view(profile="ready"), name="ready"),
    path("live/", HealthView.as_view(profile="live"), name="live"),
]
