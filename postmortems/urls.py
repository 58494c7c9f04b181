from django.urls import path

from . import views

app_name = "postmortems"

urlpatterns = [
    path("postmortems/", views.postmortem_list, name="list"),
    path("postmortems/new/<str:number>/", views.postmortem_create, name="create"),
    path("postmortems/<str:number>/", views.postmortem_detail, name="detail"),
    path("postmortems/<str:number>/sections/", views.postmortem_sections, name="sections"),
    path("postmortems/<str:number>/details/", views.postmortem_details, name="details"),
    path("postmortems/<str:number>/timeline/", views.postmortem_timeline, name="timeline"),
    path("postmortems/<str:number>/print/", views.postmortem_print, name="print"),
    path("postmortems/<str:number>/export.md", views.postmortem_export, name="export"),
    path("postmortems/<str:number>/<slug:action>/", views.postmortem_transition, name="transition"),
    path("action-items/", views.action_items, name="action_items"),
    path("action-items/new/<str:number>/", views.action_item_create, name="action_item_create"),
    path("action-items/<int:pk>/", views.action_item_detail, name="action_item"),
    path("reports/metrics/", views.metrics_page, name="metrics"),
    path("reports/metrics.csv", views.metrics_csv, name="metrics_csv"),
]
