from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register("severities", views.SeverityViewSet, basename="severity")
router.register("incident-types", views.IncidentTypeViewSet, basename="incident-type")
router.register("services", views.ServiceViewSet, basename="service")
router.register("metric-targets", views.MetricTargetsViewSet, basename="metric-targets")

urlpatterns = router.urls
