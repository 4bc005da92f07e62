"""Views with a queryset or model whose own get_queryset() runs something else."""

from django.urls import path
from django.views.generic import ListView
from rest_framework import generics, serializers

from tests.smokeapp.models import Book


class BrokenNotes(ListView):
    """The issue's case: the model's query is fine, the view's own query is not."""

    model = Book
    template_name = "about.html"

    def get_queryset(self):
        return super().get_queryset().extra(select={"broken": "no_such_column + 1"})


class BookSerializer(serializers.ModelSerializer):
    class Meta:
        model = Book
        fields = ["id", "title"]


class RecentBooks(generics.ListAPIView):
    """The usual Django REST framework pattern: queryset plus get_queryset()."""

    queryset = Book.objects.all()
    serializer_class = BookSerializer

    def get_queryset(self):
        return self.queryset.filter(title__startswith=self.request.GET.get("q", ""))


urlpatterns = [
    path("notes/", BrokenNotes.as_view(), name="notes"),
    path("recent/", RecentBooks.as_view(), name="recent"),
]
