from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("integrations/", views.integration_list, name="list"),
    path("integrations/new/", views.integration_create, name="create"),
    path("integrations/<uuid:public_id>/", views.integration_detail, name="detail"),
    path("integrations/<uuid:public_id>/edit/", views.integration_edit, name="edit"),
    path("integrations/<uuid:public_id>/test-alert/", views.integration_test_alert, name="test_alert"),
    path("integrations/<uuid:public_id>/rotate-key/", views.integration_rotate, name="rotate"),
    path("integrations/<uuid:public_id>/key-copied/", views.integration_key_copied, name="key_copied"),
    path("integrations/<uuid:public_id>/revoke/", views.integration_revoke, name="revoke"),
    path("integrations/<uuid:public_id>/maintenance/", views.integration_window, name="window"),
    path("runbooks/", views.runbook_list, name="runbooks"),
    path("runbooks/<str:identifier>/", views.runbook_detail, name="runbook"),
]
