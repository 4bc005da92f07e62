"""A small JSON API over integrations, written with Django's class-based views."""

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.generic import DetailView, ListView

from health_deep import smoke_query
from integrations.models import Integration, Webhook


def _integration(obj: Integration) -> dict[str, Any]:
    return {"id": obj.pk, "name": obj.name, "base_url": obj.base_url, "enabled": obj.enabled}


class IntegrationList(ListView):
    model = Integration

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> JsonResponse:
        return JsonResponse({"results": [_integration(o) for o in context["object_list"]]})


class IntegrationDetail(DetailView):
    model = Integration

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> JsonResponse:
        return JsonResponse(_integration(context["object"]))


class WebhookList(ListView):
    queryset = Webhook.objects.select_related("integration")

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> JsonResponse:
        return JsonResponse(
            {
                "results": [
                    {
                        "id": w.pk,
                        "event": w.event,
                        "target": w.target,
                        "integration": w.integration.name,
                    }
                    for w in context["object_list"]
                ]
            }
        )


@smoke_query(lambda: Integration.objects.filter(enabled=True).order_by("name"))
def enabled_names(request: HttpRequest) -> JsonResponse:
    """A function view: health_deep cannot see its query, so it is registered explicitly."""
    names = Integration.objects.filter(enabled=True).order_by("name")
    return JsonResponse({"names": list(names.values_list("name", flat=True))})


def ping(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"pong": True})
