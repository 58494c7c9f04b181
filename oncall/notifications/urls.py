from django.urls import path

from . import phone_views, views

app_name = "notifications"

urlpatterns = [
    path("ack/<str:token>/", views.acknowledge, name="ack"),
    path("notifications/act/<str:token>/", views.action, name="action"),
    path("notifications/", views.my_notifications, name="mine"),
    path("notifications/deliveries/", views.delivery_list, name="list"),
    path("notifications/deliveries/<uuid:public_id>/", views.delivery_detail, name="detail"),
    path("notifications/people/<int:user_id>/", views.person_settings, name="person"),
    path("notifications/methods/new/", views.method_create, name="method_create"),
    path("notifications/methods/<uuid:public_id>/", views.method_edit, name="method_edit"),
    path("notifications/methods/<uuid:public_id>/test/", views.method_test, name="method_test"),
    path("notifications/methods/<uuid:public_id>/delete/", views.method_delete, name="method_delete"),
    path("notifications/methods/<uuid:public_id>/rotate-secret/", views.method_rotate_secret, name="method_rotate_secret"),
    path("notifications/methods/<uuid:public_id>/verify/", phone_views.method_verify, name="method_verify"),
    path("notifications/twilio/sms/", phone_views.twilio_sms, name="twilio_sms"),
    path("notifications/twilio/status/<uuid:public_id>/", phone_views.twilio_status, name="twilio_status"),
    path("notifications/twilio/voice/<uuid:public_id>/", phone_views.twilio_voice, name="twilio_voice"),
    path("notifications/rules/new/", views.rule_create, name="rule_create"),
    path("notifications/rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("notifications/subscriptions/", views.subscription_list, name="subscriptions"),
    path("notifications/subscriptions/<int:pk>/delete/", views.subscription_delete, name="subscription_delete"),
]
