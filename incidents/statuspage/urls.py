from django.urls import path, re_path

from . import views

app_name = "statuspage"

JSON = {
    "summary.json": "summary",
    "status.json": "status",
    "components.json": "components",
    "incidents.json": "incidents",
    "incidents/unresolved.json": "incidents_unresolved",
    "scheduled-maintenances.json": "scheduled_maintenances",
    "scheduled-maintenances/upcoming.json": "scheduled_maintenances_upcoming",
    "scheduled-maintenances/active.json": "scheduled_maintenances_active",
}

urlpatterns = [
    path("", views.home, name="home"),
    path("history/", views.history, name="history"),
    path("theme.css", views.theme_css, name="theme_css"),
    path("incidents/<slug:code>/", views.incident, name="incident"),
    path("maintenances/<slug:code>/", views.maintenance, name="maintenance"),
    path("feed.atom", views.feed, {"kind": "atom"}, name="feed_atom"),
    path("feed.rss", views.feed, {"kind": "rss"}, name="feed_rss"),
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscribe/confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    *[path(f"api/v2/{p}", views.json_document(name), name=f"api_{name}") for p, name in JSON.items()],
    re_path(r"^(?P<path>.*)$", views.not_found, name="not_found"),
]
