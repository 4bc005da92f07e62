"""The same data through Django REST framework: discovered from the router, no registration."""

from rest_framework import routers, serializers, viewsets

from integrations.models import Integration, Webhook


class IntegrationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Integration
        fields = ["id", "name", "base_url", "enabled"]


class WebhookSerializer(serializers.ModelSerializer):
    integration = serializers.StringRelatedField()

    class Meta:
        model = Webhook
        fields = ["id", "event", "target", "integration"]


class IntegrationViewSet(viewsets.ModelViewSet):
    queryset = Integration.objects.all()
    serializer_class = IntegrationSerializer


class WebhookViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Webhook.objects.select_related("integration")
    serializer_class = WebhookSerializer


router = routers.DefaultRouter()
router.register("integrations", IntegrationViewSet)
router.register("webhooks", WebhookViewSet)
