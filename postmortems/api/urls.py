from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("postmortems", views.PostmortemViewSet, basename="postmortem")
router.register("action-items", views.ActionItemViewSet, basename="action-item")
router.register("game-days", views.GameDayViewSet, basename="game-day")

urlpatterns = [
    path("metrics/", views.MetricsView.as_view(), name="api-metrics"),
    *router.urls,
]
