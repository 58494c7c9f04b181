from django.urls import path
from rest_framework.routers import SimpleRouter

from .. import ingest
from . import views

router = SimpleRouter()
router.register("integrations", views.IntegrationViewSet, basename="integration")
router.register("alerts", views.AlertViewSet, basename="alert")
router.register("integration-maintenances", views.MaintenanceWindowViewSet, basename="integration-maintenance")
router.register("runbooks", views.RunbookViewSet, basename="runbook")

urlpatterns = [
    path("integrations/<str:key>/alertmanager/", ingest.alertmanager_ingest, name="integrations-alertmanager"),
    path("integrations/<str:key>/webhook/", ingest.webhook_ingest, name="integrations-webhook"),
    path("integrations/<str:key>/heartbeat/", ingest.heartbeat_ping, name="integrations-heartbeat"),
    *router.urls,
]
