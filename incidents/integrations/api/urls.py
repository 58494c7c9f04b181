from django.urls import path
from rest_framework.routers import SimpleRouter

from .. import receivers
from . import views

router = SimpleRouter()
router.register("integrations", views.IntegrationViewSet, basename="integration")
router.register("alerts", views.AlertViewSet, basename="alert")
router.register("integration-maintenances", views.MaintenanceWindowViewSet, basename="integration-maintenance")
router.register("runbooks", views.RunbookViewSet, basename="runbook")

# The ingest endpoints; config/urls.py mounts them first under /api/v1/integrations/ so a
# delivery does not walk the whole URL table.
ingest_urlpatterns = [
    path("<str:key>/alertmanager/", receivers.alertmanager_ingest, name="integrations-alertmanager"),
    path("<str:key>/webhook/", receivers.webhook_ingest, name="integrations-webhook"),
    path("<str:key>/heartbeat/", receivers.heartbeat_ping, name="integrations-heartbeat"),
]

urlpatterns = router.urls
