from rest_framework.routers import SimpleRouter

from . import people, views

router = SimpleRouter()
router.register("schedules", views.ScheduleViewSet, basename="schedule")
router.register("overrides", views.OverrideViewSet, basename="override")
router.register("users", people.UserViewSet, basename="user")
router.register("escalation-policies", views.EscalationPolicyViewSet, basename="escalation-policy")

urlpatterns = router.urls
