from django.urls import path

from . import views

app_name = "chatops"

urlpatterns = [
    path("chat/slack/commands/", views.slack_commands, name="slack_commands"),
    path("chat/slack/interactions/", views.slack_interactions, name="slack_interactions"),
    path("chat/slack/events/", views.slack_events, name="slack_events"),
    path("chat/mattermost/commands/", views.mattermost_commands, name="mattermost_commands"),
    path("chat/mattermost/actions/", views.mattermost_actions, name="mattermost_actions"),
    path("chat/link/<str:token>/", views.link, name="link"),
]
