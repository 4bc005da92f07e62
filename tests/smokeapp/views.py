from django.db.models import Count
from django.http import HttpRequest, JsonResponse
from django.views.generic import DetailView, ListView, TemplateView
from rest_framework import generics, routers, serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from health_deep import smoke_query
from tests.smokeapp.models import Author, Book, Publisher


class BookList(ListView):
    model = Book


class BookDetail(DetailView):
    model = Book


class PublishedList(ListView):
    queryset = Book.objects.select_related("publisher")


class AuthorList(ListView):
    model = Author


class MyBooks(ListView):
    def get_queryset(self):
        return Book.objects.filter(author__name=self.request.user.get_username())


class About(TemplateView):
    template_name = "about.html"


def ping(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"pong": True})


@smoke_query(lambda: Author.objects.annotate(books=Count("book")))
def author_stats(request: HttpRequest) -> JsonResponse:
    return JsonResponse({})


def writes(request: HttpRequest) -> JsonResponse:
    return JsonResponse({})


def titles(request: HttpRequest) -> JsonResponse:
    """A function view: its query is known only once it runs (a recording)."""
    books = Book.objects.filter(title__startswith=request.GET.get("q", ""))
    return JsonResponse({"books": [[b.title, int(b.priority)] for b in books[:10]]})


def visit(request: HttpRequest) -> JsonResponse:
    """A GET that writes, then reads: only the read may ever be recorded."""
    Publisher.objects.create(name="visited")
    return JsonResponse({"publishers": Publisher.objects.count()})


class BookSerializer(serializers.ModelSerializer):
    class Meta:
        model = Book
        fields = ["id", "title"]


class BookViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Book.objects.select_related("author", "publisher")
    serializer_class = BookSerializer


class Stats(APIView):
    def get(self, request):
        return Response({})


class MyAuthors(generics.ListAPIView):
    serializer_class = BookSerializer

    def get_queryset(self):
        return Author.objects.filter(name=self.request.user.get_username())


router = routers.DefaultRouter()
router.register("api/books", BookViewSet, basename="book")
