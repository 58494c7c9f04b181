from django.urls import path

from . import views

app_name = "oncall"

urlpatterns = [
    path("", views.oncall_now, name="now"),
    path("my-shifts/", views.my_shifts, name="my_shifts"),
    path("my-time-zone/", views.my_time_zone, name="my_time_zone"),
    path("schedules/", views.schedule_list, name="schedules"),
    path("schedules/new/", views.schedule_new, name="schedule_new"),
    path("schedules/<int:pk>/", views.schedule_detail, name="schedule"),
    path("schedules/<int:pk>/edit/", views.schedule_edit, name="schedule_edit"),
    path("schedules/<int:schedule_pk>/layers/new/", views.layer_edit, name="layer_new"),
    path("schedules/<int:pk>/overrides/new/", views.override_new, name="override_new"),
    path("schedules/<int:pk>/notes/", views.handoff_note, name="handoff_note"),
    path("schedules/<int:pk>/calendar/rotate/", views.schedule_calendar_rotate, name="schedule_calendar_rotate"),
    path("my-shifts/calendar/rotate/", views.my_calendar_rotate, name="my_calendar_rotate"),
    path("layers/<int:pk>/edit/", views.layer_edit, name="layer_edit"),
    path("layers/<int:pk>/delete/", views.layer_delete, name="layer_delete"),
    path("overrides/<int:pk>/delete/", views.override_delete, name="override_delete"),
    path("policies/", views.policy_list, name="policies"),
    path("policies/new/", views.policy_edit, name="policy_new"),
    path("policies/<int:pk>/", views.policy_detail, name="policy"),
    path("policies/<int:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("incidents/<str:number>/page/", views.page, name="page"),
    path("incidents/<str:number>/escalation/", views.escalation_panel, name="escalation_panel"),
    path("calendar/schedule/<str:token>.ics", views.ical_schedule, name="ical_schedule"),
    path("calendar/user/<str:token>.ics", views.ical_user, name="ical_user"),
]
