from tests.urls_django_scopes import slow_urlpatterns as urlpatterns  # noqa: F401
