from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("integrations/", views.IntegrationList.as_view(), name="integration-list"),
    path("integrations/<int:pk>/", views.IntegrationDetail.as_view(), name="integration-detail"),
    path("webhooks/", views.WebhookList.as_view(), name="webhook-list"),
    path("enabled/", views.enabled_names, name="enabled-names"),
    path("ping/", views.ping, name="ping"),
]
