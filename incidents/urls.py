from django.urls import path

from . import views

app_name = "incidents"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("severities.css", views.severity_css, name="severity_css"),
    path("incidents/", views.incident_list, name="list"),
    path("incidents/new/", views.declare, name="declare"),
    path("drills/", views.drills, name="drills"),
    path("incidents/<str:number>/", views.incident_detail, name="detail"),
    path("incidents/<str:number>/communications/", views.communications, name="communications"),
    path("incidents/<str:number>/checklist/<int:item_id>/", views.checklist_toggle, name="checklist"),
    path("incidents/<str:number>/<slug:action>/", views.incident_action, name="action"),
]
