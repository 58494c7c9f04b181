"""The permission matrix: every URL the portal serves, every method it answers, every role.

The table below has one row per URL name (and HTTP method). The test walks Django's URL
resolver (DRF router routes and the admin included) and fails when a URL exists without a row,
so a new page or endpoint cannot ship without someone deciding who may use it.

Levels: PUBLIC (anyone; the URL or its token is the credential), SIGNED_IN (any active
account), VIEW (Viewer and up), RESPOND (Responder and up), CONFIGURE (Admin). A row may
instead give each role its outcome (for another person's objects). Outcomes: "ok" (the view
ran: 2xx, 3xx other than to the login page, 400 or 409), "login" (redirect to the login page),
401, 403, 404, 405.
"""

import re
from contextlib import suppress

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from delivery.models import Delivery
from incidents import demo
from incidents.access import api_token_create
from incidents.groups import ADMIN, RESPONDER, VIEWER
from incidents.integrations.models import Integration, Runbook
from incidents.models import Incident, Maintenance, Service
from incidents.statuspage.models import PublicIncident, StatusComponent
from oncall.models import CalendarToken, EscalationPolicy, Layer, Override, Schedule
from oncall.notifications.ack import ack_token, action_token
from oncall.notifications.models import ContactMethod, NotificationRule, StakeholderSubscription
from postmortems.models import ActionItem, GameDay, GameDayFeedToken, Postmortem

PUBLIC, SIGNED_IN, VIEW, RESPOND, CONFIGURE = "public", "signed_in", "view", "respond", "configure"
ROLES = ("anonymous", "deactivated", "no_group", "viewer", "responder", "admin")
RANK = {"no_group": 0, "viewer": 1, "responder": 2, "admin": 3}
NEEDED = {SIGNED_IN: 0, VIEW: 1, RESPOND: 2, CONFIGURE: 3}


class Row:
    """One URL name: how to build it, and per method the level (or per-role outcomes). `ok`:
    what "allowed" looks like when it is not "ok" (e.g. "404" for a made-up token), for the
    whole row or per method."""

    def __init__(self, name, methods, kwargs=None, *, api=False, ok=None, data=None):
        self.name, self.methods, self.kwargs, self.api, self.ok = name, methods, kwargs or (lambda w: {}), api, ok
        self.data = data or (lambda w: {})


def S(name, methods, kwargs=None, **kw):  # a staff page (or public page)
    return Row(name, methods, kwargs, **kw)


def A(name, methods, kwargs=None, **kw):  # an API route
    return Row(name, methods, kwargs, api=True, **kw)


def other(viewer="403", responder="403", admin="ok", anonymous="login"):
    """Outcomes for someone else's object."""
    return {"anonymous": anonymous, "deactivated": anonymous, "no_group": "403", "viewer": viewer, "responder": responder, "admin": admin}


def inc(w):
    return {"number": w["incident"].number}


def api_inc(w):
    return {"id": w["incident"].number}


ROWS = [
    # --- health, login, docs ------------------------------------------------------------------
    S("healthz", {"GET": PUBLIC}),
    S("readyz", {"GET": PUBLIC}),
    S("metrics", {"GET": PUBLIC}),
    S("login", {"GET": PUBLIC}),
    S("logout", {"POST": PUBLIC}, ok="login"),  # signed out, and sent to the login page
    S("password_reset_confirm", {"GET": PUBLIC}, lambda w: {"uidb64": "MQ", "token": "not-a-token"}),
    S("password_reset_complete", {"GET": PUBLIC}),
    S("schema", {"GET": PUBLIC}),
    S("api-docs", {"GET": PUBLIC}),
    # --- ingest: the key in the URL or body is the credential ------------------------------------
    S("integrations-alertmanager", {"POST": PUBLIC}, lambda w: {"key": "not-a-key"}, ok="404"),
    S("integrations-webhook", {"POST": PUBLIC}, lambda w: {"key": "not-a-key"}, ok="404"),
    S("integrations-heartbeat", {"GET": PUBLIC, "POST": PUBLIC}, lambda w: {"key": "not-a-key"}, ok="404"),
    S("pagerduty-enqueue", {"POST": PUBLIC}),
    S("chatops:slack_commands", {"POST": PUBLIC}, ok="404"),
    S("chatops:slack_interactions", {"POST": PUBLIC}, ok="404"),
    S("chatops:slack_events", {"POST": PUBLIC}, ok="404"),
    S("chatops:mattermost_commands", {"POST": PUBLIC}, ok="404"),
    S("chatops:mattermost_actions", {"POST": PUBLIC}, ok="401"),
    S("chatops:link", {"GET": SIGNED_IN, "POST": SIGNED_IN}, lambda w: {"token": "not-a-token"}),
    # --- incidents ------------------------------------------------------------------------------
    S("incidents:dashboard", {"GET": VIEW}),
    S("incidents:list", {"GET": VIEW}),
    S("incidents:drills", {"GET": VIEW}),
    S("incidents:declare", {"GET": RESPOND, "POST": RESPOND}),
    S("incidents:detail", {"GET": VIEW}, inc),
    S("incidents:communications", {"GET": VIEW}, inc),
    S("incidents:checklist", {"POST": RESPOND}, lambda w: {**inc(w), "item_id": w["incident"].checklist.first().pk}),
    S("incidents:action", {"POST": RESPOND}, lambda w: {**inc(w), "action": "note"}),
    # --- on call ----------------------------------------------------------------------------------
    S("oncall:now", {"GET": VIEW}),
    S("oncall:my_shifts", {"GET": VIEW}),
    S("oncall:schedules", {"GET": VIEW}),
    S("oncall:schedule_new", {"GET": CONFIGURE, "POST": CONFIGURE}),
    S("oncall:schedule", {"GET": VIEW}, lambda w: {"pk": w["schedule"].pk}),
    S("oncall:schedule_edit", {"GET": CONFIGURE, "POST": CONFIGURE}, lambda w: {"pk": w["schedule"].pk}),
    S("oncall:layer_new", {"GET": CONFIGURE, "POST": CONFIGURE}, lambda w: {"schedule_pk": w["schedule"].pk}),
    S("oncall:override_new", {"GET": RESPOND, "POST": RESPOND}, lambda w: {"pk": w["schedule"].pk}),
    S("oncall:handoff_note", {"POST": RESPOND}, lambda w: {"pk": w["schedule"].pk}),
    S("oncall:layer_edit", {"GET": CONFIGURE, "POST": CONFIGURE}, lambda w: {"pk": w["layer"].pk}),
    S("oncall:layer_delete", {"POST": CONFIGURE}, lambda w: {"pk": w["layer"].pk}),
    S("oncall:override_delete", {"POST": RESPOND}, lambda w: {"pk": w["override"].pk}),
    S("oncall:policies", {"GET": VIEW}),
    S("oncall:policy_new", {"GET": CONFIGURE, "POST": CONFIGURE}),
    S("oncall:policy", {"GET": VIEW}, lambda w: {"pk": w["policy"].pk}),
    S("oncall:policy_edit", {"GET": CONFIGURE, "POST": CONFIGURE}, lambda w: {"pk": w["policy"].pk}),
    S("oncall:page", {"POST": RESPOND}, inc),
    S("oncall:escalation_panel", {"GET": VIEW}, inc),
    S("oncall:schedule_calendar_rotate", {"POST": CONFIGURE}, lambda w: {"pk": w["schedule"].pk}),
    S("oncall:my_calendar_rotate", {"POST": VIEW}),
    # The token is the credential: the same answer for everyone; a wrong token is a 404.
    S("oncall:ical_schedule", {"GET": PUBLIC}, lambda w: {"token": w["schedule"].ical_token}),
    S("oncall:ical_user", {"GET": PUBLIC}, lambda w: {"token": w["calendar"].token}),
    # --- notifications ----------------------------------------------------------------------------
    S("notifications:ack", {"GET": PUBLIC}, lambda w: {"token": w["ack_token"]}),
    S("notifications:action", {"GET": PUBLIC}, lambda w: {"token": w["action_token"]}),
    # Twilio's webhooks: the same answer for everyone, an unsigned request is refused (403).
    S("notifications:twilio_sms", {"POST": PUBLIC}, ok="403"),
    S("notifications:twilio_status", {"POST": PUBLIC}, lambda w: {"public_id": w["notification"].public_id}, ok="403"),
    S("notifications:twilio_voice", {"POST": PUBLIC}, lambda w: {"public_id": w["notification"].public_id}, ok="403"),
    S("notifications:method_verify", {"POST": RESPOND}, lambda w: {"public_id": w["my_method"].public_id}),
    S("notifications:mine", {"GET": SIGNED_IN}),
    S("oncall:my_time_zone", {"GET": SIGNED_IN, "POST": SIGNED_IN}),
    S("notifications:list", {"GET": VIEW}),
    S("notifications:detail", {"GET": VIEW}, lambda w: {"public_id": w["notification"].public_id}),
    S("notifications:person", {"GET": VIEW}, lambda w: {"user_id": w["me"].pk}),
    S("notifications:method_create", {"POST": RESPOND}),
    S("notifications:method_edit", {"GET": RESPOND, "POST": RESPOND}, lambda w: {"public_id": w["my_method"].public_id}),
    S("notifications:method_test", {"POST": RESPOND}, lambda w: {"public_id": w["my_method"].public_id}),
    S("notifications:method_delete", {"POST": RESPOND}, lambda w: {"public_id": w["my_method"].public_id}),
    S("notifications:method_rotate_secret", {"POST": RESPOND}, lambda w: {"public_id": w["my_method"].public_id}),
    S("notifications:rule_create", {"POST": RESPOND}),
    S("notifications:rule_delete", {"POST": RESPOND}, lambda w: {"pk": w["my_rule"].pk}),
    S("notifications:subscriptions", {"GET": VIEW, "POST": CONFIGURE}),
    S("notifications:subscription_delete", {"POST": CONFIGURE}, lambda w: {"pk": w["subscription"].pk}),
    # --- integrations and runbooks ----------------------------------------------------------------
    S("integrations:list", {"GET": VIEW}),
    S("integrations:create", {"GET": CONFIGURE, "POST": CONFIGURE}),
    S("integrations:detail", {"GET": VIEW}, lambda w: {"public_id": w["integration"].public_id}),
    S("integrations:edit", {"GET": CONFIGURE, "POST": CONFIGURE}, lambda w: {"public_id": w["integration"].public_id}),
    S("integrations:test_alert", {"POST": RESPOND}, lambda w: {"public_id": w["integration"].public_id}),
    S("integrations:rotate", {"POST": CONFIGURE}, lambda w: {"public_id": w["integration"].public_id}),
    S("integrations:key_copied", {"POST": VIEW}, lambda w: {"public_id": w["integration"].public_id}),
    S("integrations:revoke", {"POST": CONFIGURE}, lambda w: {"public_id": w["integration"].public_id}),
    S("integrations:window", {"POST": CONFIGURE}, lambda w: {"public_id": w["integration"].public_id}),
    S("integrations:runbooks", {"GET": VIEW}),
    S("integrations:runbook", {"GET": VIEW}, lambda w: {"identifier": w["runbook"].identifier}),
    # --- postmortems, action items, metrics ------------------------------------------------------
    S("postmortems:list", {"GET": VIEW}),
    S("postmortems:create", {"POST": RESPOND}, lambda w: {"number": w["open_incident"].number}),
    S("postmortems:detail", {"GET": VIEW}, lambda w: {"number": w["postmortem"].incident.number}),
    S("postmortems:sections", {"POST": RESPOND}, lambda w: {"number": w["postmortem"].incident.number}),
    S("postmortems:details", {"POST": RESPOND}, lambda w: {"number": w["postmortem"].incident.number}),
    S("postmortems:timeline", {"POST": RESPOND}, lambda w: {"number": w["postmortem"].incident.number}),
    S("postmortems:print", {"GET": VIEW}, lambda w: {"number": w["postmortem"].incident.number}),
    S("postmortems:export", {"GET": VIEW}, lambda w: {"number": w["postmortem"].incident.number}),
    S("postmortems:transition", {"POST": RESPOND}, lambda w: {"number": w["postmortem"].incident.number, "action": "submit"}),
    S("postmortems:action_items", {"GET": VIEW}),
    S("postmortems:action_item_create", {"POST": RESPOND}, lambda w: {"number": w["incident"].number}),
    S("postmortems:action_item", {"GET": VIEW, "POST": RESPOND}, lambda w: {"pk": w["action_item"].pk}),
    S("postmortems:game_days", {"GET": VIEW}),
    S("postmortems:game_day_new", {"GET": RESPOND, "POST": RESPOND}),
    S("postmortems:game_day", {"GET": VIEW}, lambda w: {"public_id": w["game_day"].public_id}),
    S("postmortems:game_day_edit", {"GET": RESPOND, "POST": RESPOND}, lambda w: {"public_id": w["game_day"].public_id}),
    S("postmortems:game_day_start", {"POST": RESPOND}, lambda w: {"public_id": w["game_day"].public_id}),
    S("postmortems:game_day_results", {"GET": RESPOND, "POST": RESPOND}, lambda w: {"public_id": w["game_day"].public_id}),
    S("postmortems:game_day_cancel", {"POST": RESPOND}, lambda w: {"public_id": w["game_day"].public_id}),
    S("postmortems:game_day_feed_rotate", {"POST": VIEW}),
    S("postmortems:game_day_feed", {"GET": PUBLIC}, lambda w: {"token": w["game_day_feed"].token}),
    S("postmortems:metrics", {"GET": VIEW}),
    S("postmortems:metrics_csv", {"GET": VIEW}),
    # --- status page: public ---------------------------------------------------------------------
    *[S(f"statuspage:{n}", {"GET": PUBLIC}) for n in (
        "home", "history", "feed_atom", "feed_rss", "api_summary", "api_status", "api_components", "api_incidents",
        "api_incidents_unresolved", "api_scheduled_maintenances", "api_scheduled_maintenances_upcoming",
        "api_scheduled_maintenances_active", "theme_css")],
    S("incidents:severity_css", {"GET": PUBLIC}),
    S("statuspage:incident", {"GET": PUBLIC}, lambda w: {"code": w["public_incident"].code}),
    S("statuspage:maintenance", {"GET": PUBLIC}, lambda w: {"code": "nothing-here"}, ok="404"),
    S("statuspage:subscribe", {"GET": PUBLIC, "POST": PUBLIC}),
    S("statuspage:confirm", {"GET": PUBLIC}, lambda w: {"token": "not-a-token"}),
    S("statuspage:unsubscribe", {"GET": PUBLIC}, lambda w: {"token": "not-a-token"}),
    S("statuspage:not_found", {"GET": PUBLIC}, lambda w: {"path": "no/such/page"}, ok="404"),
    # --- status page: staff ----------------------------------------------------------------------
    S("statuspage_staff:overview", {"GET": VIEW}),
    S("statuspage_staff:publish", {"GET": RESPOND, "POST": RESPOND}, inc),
    S("statuspage_staff:maintenance_new", {"GET": RESPOND, "POST": RESPOND}),
    S("statuspage_staff:maintenance_edit", {"GET": RESPOND, "POST": RESPOND}, lambda w: {"pk": w["maintenance"].pk}),
    # --- API ----------------------------------------------------------------------------------------
    A("api-root", {"GET": VIEW}),
    A("incident-list", {"GET": VIEW, "POST": RESPOND}),
    A("incident-detail", {"GET": VIEW, "PUT": RESPOND, "PATCH": RESPOND}, api_inc),
    *[A(f"incident-{a}", {"POST": RESPOND}, api_inc) for a in (
        "acknowledge", "change-severity", "change-status", "notes", "reopen", "resolve", "responders", "roles",
        "war-room", "links", "change-type", "restriction")],
    A("incident-link-delete", {"DELETE": RESPOND}, lambda w: {**api_inc(w), "link_id": 999999}, ok="404"),
    A("incident-timeline", {"GET": VIEW}, api_inc),
    A("incident-updates", {"GET": VIEW, "POST": RESPOND}, api_inc),
    A("severity-list", {"GET": VIEW, "POST": CONFIGURE}),
    A("incident-type-list", {"GET": VIEW, "POST": CONFIGURE}),
    A("incident-type-detail", {"GET": VIEW, "PUT": CONFIGURE, "PATCH": CONFIGURE, "DELETE": CONFIGURE}, lambda w: {"key": "third-party-outage"}),
    A("severity-detail", {"GET": VIEW, "PUT": CONFIGURE, "PATCH": CONFIGURE, "DELETE": CONFIGURE}, lambda w: {"key": "P3"}),
    A("metric-targets-list", {"GET": VIEW}),
    A("metric-targets-detail", {"GET": VIEW, "PUT": CONFIGURE, "PATCH": CONFIGURE}, lambda w: {"pk": 1}),
    A("service-list", {"GET": VIEW, "POST": CONFIGURE}),
    A("service-detail", {"GET": VIEW, "PUT": CONFIGURE, "PATCH": CONFIGURE, "DELETE": CONFIGURE}, lambda w: {"slug": w["service"].slug}),
    A("service-archive", {"POST": CONFIGURE}, lambda w: {"slug": w["service"].slug}),
    A("service-restore", {"POST": CONFIGURE}, lambda w: {"slug": w["service"].slug}),
    A("integration-list", {"GET": VIEW, "POST": CONFIGURE}),
    A("integration-detail", {"GET": VIEW, "PUT": CONFIGURE, "PATCH": CONFIGURE}, lambda w: {"id": w["integration"].public_id}),
    A("integration-revoke", {"POST": CONFIGURE}, lambda w: {"id": w["integration"].public_id}),
    A("integration-rotate-key", {"POST": CONFIGURE}, lambda w: {"id": w["integration"].public_id}),
    A("integration-test-alert", {"POST": RESPOND}, lambda w: {"id": w["integration"].public_id}),
    A("alert-list", {"GET": VIEW}),
    A("alert-detail", {"GET": VIEW}, lambda w: {"id": w["alert"].public_id}),
    A("integration-maintenance-list", {"GET": VIEW, "POST": CONFIGURE}),
    A("integration-maintenance-detail", {"GET": VIEW, "PUT": CONFIGURE, "PATCH": CONFIGURE, "DELETE": CONFIGURE},
      lambda w: {"pk": w["window"].pk}),
    A("runbook-list", {"GET": VIEW, "POST": CONFIGURE}),
    A("runbook-detail", {"GET": VIEW, "PUT": CONFIGURE, "PATCH": CONFIGURE, "DELETE": CONFIGURE},
      lambda w: {"identifier": w["runbook"].identifier}),
    A("api-metrics", {"GET": VIEW}),
    A("postmortem-list", {"GET": VIEW, "POST": RESPOND}),
    A("postmortem-detail", {"GET": VIEW, "PUT": RESPOND, "PATCH": RESPOND}, lambda w: {"id": w["postmortem"].incident.number}),
    A("postmortem-markdown", {"GET": VIEW}, lambda w: {"id": w["postmortem"].incident.number}),
    A("postmortem-publish", {"POST": RESPOND}, lambda w: {"id": w["postmortem"].incident.number}),
    A("postmortem-return-to-draft", {"POST": RESPOND}, lambda w: {"id": w["postmortem"].incident.number}),
    A("postmortem-submit", {"POST": RESPOND}, lambda w: {"id": w["postmortem"].incident.number}),
    A("action-item-list", {"GET": VIEW, "POST": RESPOND}),
    A("game-day-list", {"GET": VIEW, "POST": RESPOND}),
    A("game-day-detail", {"GET": VIEW, "PUT": RESPOND, "PATCH": RESPOND}, lambda w: {"id": w["game_day"].public_id}),
    A("game-day-start", {"POST": RESPOND}, lambda w: {"id": w["game_day"].public_id}),
    A("game-day-results", {"POST": RESPOND}, lambda w: {"id": w["game_day"].public_id}),
    A("game-day-cancel", {"POST": RESPOND}, lambda w: {"id": w["game_day"].public_id}),
    A("action-item-detail", {"GET": VIEW, "PUT": RESPOND, "PATCH": RESPOND}, lambda w: {"pk": w["action_item"].pk}),
    A("status-component-list", {"GET": VIEW, "POST": CONFIGURE}),
    A("status-component-detail", {"GET": VIEW, "PUT": CONFIGURE, "PATCH": CONFIGURE, "DELETE": CONFIGURE},
      lambda w: {"id": w["component"].code}),
    A("status-component-archive", {"POST": CONFIGURE}, lambda w: {"id": w["component"].code}),
    A("status-component-restore", {"POST": CONFIGURE}, lambda w: {"id": w["component"].code}),
    A("maintenance-list", {"GET": VIEW, "POST": RESPOND}),
    A("maintenance-detail", {"GET": VIEW, "PUT": RESPOND, "PATCH": RESPOND, "DELETE": CONFIGURE}, lambda w: {"pk": w["maintenance"].pk}),
    A("maintenance-step", {"POST": RESPOND}, lambda w: {"pk": w["maintenance"].pk}),
    # Your own contact methods and rules: reading needs Viewer, changing needs Responder.
    A("contact-method-list", {"GET": VIEW, "POST": RESPOND}),
    A("contact-method-detail", {"GET": VIEW, "PUT": RESPOND, "PATCH": RESPOND, "DELETE": RESPOND},
      lambda w: {"id": w["my_method"].public_id}),
    A("contact-method-rotate-secret", {"POST": RESPOND}, lambda w: {"id": w["my_method"].public_id}),
    A("contact-method-test", {"POST": RESPOND}, lambda w: {"id": w["my_method"].public_id}),
    A("notification-rule-list", {"GET": VIEW, "POST": RESPOND}),
    A("notification-rule-detail", {"GET": VIEW, "DELETE": RESPOND}, lambda w: {"pk": w["my_rule"].pk}),
    A("notification-list", {"GET": VIEW}),
    A("notification-detail", {"GET": VIEW}, lambda w: {"id": w["notification"].public_id}),
    A("stakeholder-subscription-list", {"GET": VIEW, "POST": CONFIGURE}),
    A("stakeholder-subscription-detail", {"GET": VIEW, "PUT": CONFIGURE, "PATCH": CONFIGURE, "DELETE": CONFIGURE},
      lambda w: {"pk": w["subscription"].pk}),
    A("schedule-list", {"GET": VIEW, "POST": CONFIGURE}),
    A("schedule-oncall-all", {"GET": VIEW}),
    A("schedule-detail", {"GET": VIEW, "PUT": CONFIGURE, "PATCH": CONFIGURE, "DELETE": CONFIGURE}, lambda w: {"pk": w["schedule"].pk}),
    A("schedule-oncall", {"GET": VIEW}, lambda w: {"pk": w["schedule"].pk}),
    A("schedule-shifts", {"GET": VIEW}, lambda w: {"pk": w["schedule"].pk}),
    A("schedule-archive", {"POST": CONFIGURE}, lambda w: {"pk": w["schedule"].pk}),
    A("schedule-restore", {"POST": CONFIGURE}, lambda w: {"pk": w["schedule"].pk}),
    A("schedule-rotate-calendar", {"POST": CONFIGURE}, lambda w: {"pk": w["schedule"].pk}),
    A("override-list", {"GET": VIEW, "POST": RESPOND}),
    A("override-detail", {"GET": VIEW, "DELETE": RESPOND}, lambda w: {"pk": w["override"].pk}),
    A("escalation-policy-list", {"GET": VIEW, "POST": CONFIGURE}),
    A("escalation-policy-detail", {"GET": VIEW, "PUT": CONFIGURE, "PATCH": CONFIGURE, "DELETE": CONFIGURE},
      lambda w: {"pk": w["policy"].pk}),
    A("integration-archive", {"POST": CONFIGURE}, lambda w: {"id": w["integration"].public_id}),
    A("integration-restore", {"POST": CONFIGURE}, lambda w: {"id": w["integration"].public_id}),
    # People: admins provision; everyone reads and edits their own profile. Nobody deletes.
    A("user-list", {"GET": CONFIGURE, "POST": CONFIGURE}),
    A("user-detail", {"GET": CONFIGURE, "PUT": CONFIGURE, "PATCH": CONFIGURE, "DELETE": CONFIGURE},
      lambda w: {"pk": w["people"]["dana"].pk}, ok={"DELETE": "405"}),  # admins reach it, and are told to deactivate
    A("user-deactivate", {"POST": CONFIGURE}, lambda w: {"pk": w["people"]["dana"].pk}),
    A("user-me", {"GET": SIGNED_IN, "PUT": SIGNED_IN, "PATCH": SIGNED_IN}),
    A("user-me-calendar", {"GET": SIGNED_IN}),
    A("user-me-rotate-calendar", {"POST": SIGNED_IN}),
]

# Someone else's objects: the row name with "@other".
OTHERS = [
    S("notifications:person@other", {"GET": other()}, lambda w: {"user_id": w["people"]["dana"].pk}),
    S("notifications:method_edit@other", {"GET": other(), "POST": other()}, lambda w: {"public_id": w["dana_method"].public_id}),
    S("notifications:method_test@other", {"POST": other()}, lambda w: {"public_id": w["dana_method"].public_id}),
    S("notifications:method_delete@other", {"POST": other()}, lambda w: {"public_id": w["dana_method"].public_id}),
    S("notifications:method_rotate_secret@other", {"POST": other()}, lambda w: {"public_id": w["dana_method"].public_id}),
    S("notifications:rule_delete@other", {"POST": other()}, lambda w: {"pk": w["dana_rule"].pk}),
    # Adding a method or a rule for someone else (the form's "user" field).
    S("notifications:method_create@other", {"POST": other()}, data=lambda w: {"user": w["people"]["dana"].pk}),
    S("notifications:rule_create@other", {"POST": other()}, data=lambda w: {"user": w["people"]["dana"].pk}),
    # The API is "your own": another person's objects do not exist for you.
    # (A viewer may not change even their own: 403 before the lookup.)
    A("contact-method-detail@other", {"GET": other("404", "404", "404", "401"),
                                      **{m: other("403", "404", "404", "401") for m in ("PATCH", "DELETE")}},
      lambda w: {"id": w["dana_method"].public_id}),
    A("contact-method-test@other", {"POST": other("403", "404", "404", "401")}, lambda w: {"id": w["dana_method"].public_id}),
    A("contact-method-rotate-secret@other", {"POST": other("403", "404", "404", "401")}, lambda w: {"id": w["dana_method"].public_id}),
    A("notification-rule-detail@other", {"GET": other("404", "404", "404", "401"), "DELETE": other("403", "404", "404", "401")},
      lambda w: {"pk": w["dana_rule"].pk}),
]


# --- the URL resolver ------------------------------------------------------------------------


def _walk(patterns, ns=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, ns + (f"{p.namespace}:" if p.namespace else ""))
        elif isinstance(p, URLPattern):
            actions = getattr(p.callback, "actions", None)
            methods = {m.upper() for m in actions} - {"HEAD"} if actions else None  # HEAD is GET
            yield ns + (p.name or ""), methods


def served_urls():
    """{url name: set of methods (DRF routes) or None (plain views)}, the admin left out."""
    found: dict[str, set | None] = {}
    for name, methods in _walk(get_resolver().url_patterns):
        if name.startswith("admin:") or name == "bench-trivial":
            continue
        if methods is None:
            found.setdefault(name, None)
        else:
            found[name] = (found.get(name) or set()) | methods
    return found


def test_every_served_url_has_a_row():
    rows = {row.name: row for row in ROWS}
    missing, methods_missing = [], []
    for name, methods in served_urls().items():
        if name not in rows:
            missing.append(name)
        elif methods:
            lacking = methods - set(rows[name].methods)
            if lacking:
                methods_missing.append(f"{name}: {sorted(lacking)}")
    assert not missing, f"URLs without a row in the permission matrix: {missing}"
    assert not methods_missing, f"methods without a row: {methods_missing}"
    stale = set(rows) - set(served_urls())
    assert not stale, f"rows for URLs that no longer exist: {sorted(stale)}"


# --- the world ----------------------------------------------------------------------------------


def _world():
    from incidents.integrations.models import Alert, IntegrationMaintenance
    from incidents.integrations.services import ingest
    from oncall.notifications import services as notify

    demo.seed("pw-123456")
    User = get_user_model()
    people = {u.username: u for u in User.objects.all()}
    roles = {
        "deactivated": User.objects.create_user("gone", "gone@example.com", "pw-123456", is_active=False),
        "no_group": User.objects.create_user("nogroup", "nogroup@example.com", "pw-123456"),
        "viewer": people["viewer"],
        "responder": people["lee"],
        "admin": User.objects.create_user("configurer", "configurer@example.com", "pw-123456", is_staff=True),
    }
    roles["deactivated"].groups.add(Group.objects.get(name=RESPONDER))
    roles["admin"].groups.add(Group.objects.get(name=ADMIN))
    assert Group.objects.get(name=VIEWER) in people["viewer"].groups.all()
    dana = people["dana"]
    integration = Integration.objects.filter(revoked_at__isnull=True).first()
    world = {
        "people": people, "roles": roles,
        "incident": Incident.objects.filter(resolved_at__isnull=True).order_by("pk").first(),
        "open_incident": Incident.objects.filter(resolved_at__isnull=True, postmortems__isnull=True).order_by("-pk").first(),
        "service": Service.objects.get(slug="payments"),
        "schedule": Schedule.objects.order_by("pk").first(),
        "layer": Layer.objects.order_by("pk").first(),
        "policy": EscalationPolicy.objects.order_by("pk").first(),
        "integration": integration,
        "runbook": Runbook.objects.order_by("pk").first(),
        "postmortem": Postmortem.objects.order_by("pk").first(),
        "action_item": ActionItem.objects.order_by("pk").first(),
        "maintenance": Maintenance.objects.order_by("pk").first(),
        "component": StatusComponent.objects.order_by("pk").first(),
        "public_incident": PublicIncident.objects.order_by("pk").first(),
        "subscription": StakeholderSubscription.objects.order_by("pk").first(),
        "notification": Delivery.objects.order_by("pk").first(),
        "dana_method": ContactMethod.objects.filter(user=dana).first(),
        "dana_rule": NotificationRule.objects.filter(user=dana).first(),
        "calendar": CalendarToken.objects.get_or_create(user=dana)[0],
        "game_day": GameDay.objects.order_by("pk").first(),
        "game_day_feed": GameDayFeedToken.objects.get_or_create(user=dana)[0],
        "ack_token": None,
        "action_token": None,
        "alert": Alert.objects.order_by("pk").first(),
        "window": IntegrationMaintenance.objects.order_by("pk").first(),
    }
    from django.utils import timezone

    from oncall.services import schedules as schedule_services

    world["override"] = Override.objects.order_by("pk").first() or schedule_services.override_create(
        schedule=world["schedule"], user=dana, start=timezone.now(), end=timezone.now() + timezone.timedelta(hours=2), by=None)
    world["ack_token"] = ack_token(incident_id=world["incident"].pk, user_id=dana.pk)
    world["action_token"] = action_token(incident_id=world["incident"].pk, user_id=dana.pk, action="acknowledge")
    if world["maintenance"] is None:
        world["maintenance"] = Maintenance.objects.create(
            title="DB upgrade", scheduled_for=timezone.now() + timezone.timedelta(days=1),
            scheduled_until=timezone.now() + timezone.timedelta(days=1, hours=1))
        world["maintenance"].services.set([world["service"]])
    if world["window"] is None:
        world["window"] = IntegrationMaintenance.objects.create(
            integration=integration, starts_at=timezone.now(), ends_at=timezone.now() + timezone.timedelta(hours=1))
    if world["notification"] is None:
        notify.contact_method_send_test(method=world["dana_method"], by=dana)
        world["notification"] = Delivery.objects.order_by("pk").first()
    if world["alert"] is None:
        ingest.integration_send_test_alert(integration=integration, by=dana)
        world["alert"] = Alert.objects.order_by("pk").first()
    for role, user in roles.items():
        method = notify.contact_method_create(user=user, kind="email", target=user.email, by=None)
        world[f"{role}_method"] = method
        world[f"{role}_rule"] = NotificationRule.objects.filter(contact_method=method).first()
    missing = [k for k, v in world.items() if v is None]
    assert not missing, f"the demo data lacks {missing}"
    return world


# --- requests and outcomes ------------------------------------------------------------------------


def _client(role, w, api):
    if api:
        client = APIClient()
        if role != "anonymous":
            _t, key = api_token_create(user=w["roles"][role])
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client
    client = Client()
    if role != "anonymous":
        client.force_login(w["roles"][role], backend="django.contrib.auth.backends.ModelBackend")
    return client


def _outcome(response) -> str:
    code = response.status_code
    if code in (301, 302, 303) and re.match(r"^(/accounts/login/|/admin/login/)", response.get("Location", "")):
        return "login"
    if code in (401, 403, 404, 405) or code >= 500:
        return str(code)
    return "ok"


def _expected(level, role, api, row_ok):
    if isinstance(level, dict):
        return level[role]
    if level == PUBLIC:
        return row_ok or "ok"
    if role in ("anonymous", "deactivated"):
        return "401" if api else "login"
    return (row_ok or "ok") if RANK[role] >= NEEDED[level] else "403"


def _request(client, method, url, data, api):
    if api:
        return getattr(client, method.lower())(url, data or {}, format="json")
    if method == "GET":
        return client.get(url)
    return client.generic(method, url, data=_encode(data), content_type="application/x-www-form-urlencoded")


def _encode(data):
    from urllib.parse import urlencode

    return urlencode(data or {})


class _Rollback(Exception):
    pass


def _try(client, method, url, data, api):
    """Send one request inside a savepoint that is rolled back: a delete in one row does not
    take the object away from the next."""
    result, cookies = {}, {k: v.value for k, v in client.cookies.items()}
    with suppress(_Rollback), transaction.atomic():
        result["response"] = _request(client, method, url, data, api)
        raise _Rollback
    for key, value in cookies.items():  # logging out (rolled back) must not log the next row out
        client.cookies[key] = value
    return result["response"]


@pytest.mark.django_db
def test_permission_matrix():
    w = _world()
    failures = []
    clients = {(role, api): _client(role, w, api) for role in ROLES for api in (False, True)}
    for row in ROWS + OTHERS:
        name = row.name.split("@")[0]
        try:
            url = reverse(name, kwargs={k: str(v) for k, v in row.kwargs(w).items()}) if "@" in row.name else _own(row, w, "viewer")
        except Exception as exc:  # a row whose URL cannot be built is a failure, not a crash
            failures.append(f"{row.name}: cannot build the URL ({exc!r})")
            continue
        for method, level in row.methods.items():
            ok = row.ok.get(method) if isinstance(row.ok, dict) else row.ok
            for role in ROLES:
                data = row.data(w)
                own_url = url if "@other" in row.name else _own(row, w, role)
                response = _try(clients[(role, row.api)], method, own_url, data, row.api)
                got, want = _outcome(response), _expected(level, role, row.api, ok)
                if got != want:
                    failures.append(f"{method} {own_url} ({row.name}) as {role}: {got} (expected {want})")
    assert not failures, f"{len(failures)} cells of the matrix differ:\n" + "\n".join(failures)


def _own(row, w, role):
    """Rows about "your own" objects use the requesting role's own method, rule or page
    (anonymous visitors get the deactivated person's)."""
    who = "deactivated" if role == "anonymous" else role
    mine = {"my_method": w[f"{who}_method"], "my_rule": w[f"{who}_rule"], "me": w["roles"][who]}
    return reverse(row.name.split("@")[0], kwargs={k: str(v) for k, v in row.kwargs({**w, **mine}).items()})


# --- the admin ---------------------------------------------------------------------------------------


ADMIN_VIEWS = ("changelist", "add")


@pytest.mark.django_db
def test_admin_matrix():
    """Every model in the admin: people outside staff get the admin's login page; the Admin
    group works there; nobody deletes a person (they are deactivated)."""
    w = _world()
    failures = []
    for role in ROLES:
        client = _client(role, w, api=False)
        for model in admin.site._registry:
            for view in ADMIN_VIEWS:
                url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}")
                got = _outcome(client.get(url))
                if role == "admin":
                    allowed = {"ok", "403"}  # the model admin decides (e.g. read-only models refuse "add")
                    if got not in allowed:
                        failures.append(f"GET {url} as admin: {got}")
                elif got != "login":
                    failures.append(f"GET {url} as {role}: {got} (expected login)")
    client = _client("admin", w, api=False)
    dana = w["people"]["dana"]
    got = _outcome(client.get(reverse("admin:auth_user_delete", args=[dana.pk])))
    if got != "403":
        failures.append(f"deleting a person in the admin: {got} (expected 403)")
    response = client.post(reverse("admin:auth_user_changelist"), {"action": "delete_selected", "_selected_action": [dana.pk], "post": "yes"})
    if get_user_model().objects.filter(pk=dana.pk).count() != 1:
        failures.append("the admin's bulk delete removed a person")
    assert response.status_code < 500
    assert not failures, "\n".join(failures)


def test_admin_urls_are_covered_by_the_admin_matrix():
    """Admin URLs come from the registry the admin matrix walks; anything else is listed."""
    known = {"index", "login", "logout", "password_change", "password_change_done", "autocomplete", "jsi18n",
             "view_on_site", "app_list", "auth_user_password_change"}
    registered = {f"{m._meta.app_label}_{m._meta.model_name}" for m in admin.site._registry}
    stray = []
    for name, _methods in _walk(get_resolver().url_patterns):
        if not name.startswith("admin:") or name == "admin:":  # unnamed: the admin's own redirects
            continue
        short = name.split(":", 1)[1]
        base = re.sub(r"_(changelist|add|change|delete|history)$", "", short)
        if short not in known and base not in registered:
            stray.append(name)
    assert not stray, f"admin URLs outside the admin matrix: {stray}"
