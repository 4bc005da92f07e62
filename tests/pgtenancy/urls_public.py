from django.urls import include, path

urlpatterns = [path("health/", include("health_deep.urls"))]
