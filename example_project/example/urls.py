from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("integrations.urls")),
    path("health/", include("health_deep.urls")),
]
