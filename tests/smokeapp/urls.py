from django.urls import include, path, re_path

from tests.smokeapp import views

app_name = "library"

inner = ([path("authors/", views.AuthorList.as_view(), name="authors")], "inner")

urlpatterns = [
    path("books/", views.BookList.as_view(), name="books"),
    path("books/<int:pk>/", views.BookDetail.as_view(), name="book"),
    path("published/", views.PublishedList.as_view(), name="published"),
    path("mine/", views.MyBooks.as_view(), name="mine"),
    path("about/", views.About.as_view(), name="about"),
    path("ping/", views.ping, name="ping"),
    path("stats/authors/", views.author_stats, name="author-stats"),
    path("writes/", views.writes, name="writes"),
    path("titles/", views.titles, name="titles"),
    path("visit/", views.visit, name="visit"),
    path("shelf/", include(([path("deep/", include(inner))], "shelf"))),
    re_path(r"^api/stats/$", views.Stats.as_view(), name="api-stats"),
    path("api/my-authors/", views.MyAuthors.as_view(), name="my-authors"),
    path("", include(views.router.urls)),
]
