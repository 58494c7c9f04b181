from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("contact-methods", views.ContactMethodViewSet, basename="contact-method")
router.register("notification-rules", views.NotificationRuleViewSet, basename="notification-rule")
router.register("notifications", views.NotificationViewSet, basename="notification")
router.register("stakeholder-subscriptions", views.StakeholderSubscriptionViewSet, basename="stakeholder-subscription")

urlpatterns = router.urls
