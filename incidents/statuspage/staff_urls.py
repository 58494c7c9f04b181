from django.urls import path

from . import staff_views

app_name = "statuspage_staff"

urlpatterns = [
    path("", staff_views.overview, name="overview"),
    path("incidents/<str:number>/publish/", staff_views.publish, name="publish"),
    path("maintenances/new/", staff_views.maintenance_new, name="maintenance_new"),
    path("maintenances/<int:pk>/", staff_views.maintenance_edit, name="maintenance_edit"),
]
