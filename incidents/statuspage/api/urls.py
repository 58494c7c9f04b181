from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("status-components", views.StatusComponentViewSet, basename="status-component")
router.register("maintenances", views.MaintenanceViewSet, basename="maintenance")

urlpatterns = router.urls
