from django.urls import path

from . import gameday_views, views

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
    path("game-days/", gameday_views.game_day_list, name="game_days"),
    path("game-days/new/", gameday_views.game_day_new, name="game_day_new"),
    path("game-days/calendar/rotate/", gameday_views.game_day_feed_rotate, name="game_day_feed_rotate"),
    path("game-days/calendar/<str:token>.ics", gameday_views.game_day_feed, name="game_day_feed"),
    path("game-days/<uuid:public_id>/", gameday_views.game_day_detail, name="game_day"),
    path("game-days/<uuid:public_id>/edit/", gameday_views.game_day_edit, name="game_day_edit"),
    path("game-days/<uuid:public_id>/start/", gameday_views.game_day_start, name="game_day_start"),
    path("game-days/<uuid:public_id>/results/", gameday_views.game_day_results, name="game_day_results"),
    path("game-days/<uuid:public_id>/cancel/", gameday_views.game_day_cancel, name="game_day_cancel"),
    path("reports/metrics/", views.metrics_page, name="metrics"),
    path("reports/metrics.csv", views.metrics_csv, name="metrics_csv"),
]
