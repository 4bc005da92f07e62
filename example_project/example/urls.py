from django.contrib import admin
from django.urls import include, path
from integrations.api import router

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("integrations.urls")),
    path("api/v2/", include(router.urls)),
    path("health/", include("health_deep.urls")),
]
