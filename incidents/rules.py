"""Who may use which URL: one map for the staff pages and the API.

Every URL name the portal serves has a rule here, or (API routes only) falls back to its
model's permissions (view for reading, add / change / delete for writing). A rule is PUBLIC
(anyone: a public page, or the token in the URL is the credential), SIGNED_IN (any active
account: your own profile), or a Django permission, which the groups in `incidents.groups`
hand out (Viewer reads, Responder acts, Admin configures).

`RuleMiddleware` enforces the map for the staff pages (a URL without a rule is refused), and
`RulePermission` for the API, so a page and the endpoint that does the same thing cannot drift
apart. Objects that belong to a person (contact methods, notification rules, a personal
calendar) add one more check, `may_act_for`: your own, or the model's manage-any permission.
`tests/test_permission_matrix.py` holds the expected outcome of every URL for every role.
"""

import logging

from django.contrib.auth.models import Group, Permission
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import DjangoModelPermissions

log = logging.getLogger(__name__)

PUBLIC, SIGNED_IN = "public", "signed_in"

RESPOND = "incidents.respond_incident"
VIEW_INCIDENT = "incidents.view_incident"

_PUBLIC_STATUS_PAGE = (
    "home", "history", "incident", "maintenance", "feed_atom", "feed_rss", "subscribe", "confirm", "unsubscribe",
    "api_summary", "api_status", "api_components", "api_incidents", "api_incidents_unresolved",
    "api_scheduled_maintenances", "api_scheduled_maintenances_upcoming", "api_scheduled_maintenances_active", "not_found",
    "theme_css",
)

# URL name -> rule, or {method: rule}.
RULES: dict[str, str | dict[str, str]] = {
    # health, sign-in, API documentation, alert ingest (the key is the credential)
    "healthz": PUBLIC, "readyz": PUBLIC, "metrics": PUBLIC, "login": PUBLIC, "logout": PUBLIC,
    "password_reset_confirm": PUBLIC, "password_reset_complete": PUBLIC,
    "schema": PUBLIC, "api-docs": PUBLIC, "bench-trivial": PUBLIC,
    "integrations-alertmanager": PUBLIC, "integrations-webhook": PUBLIC, "integrations-heartbeat": PUBLIC,
    "pagerduty-enqueue": PUBLIC,
    # chat: slash commands and button presses (the chat's signature or token is the credential)
    "chatops:slack_commands": PUBLIC, "chatops:slack_interactions": PUBLIC, "chatops:slack_events": PUBLIC,
    "chatops:mattermost_commands": PUBLIC, "chatops:mattermost_actions": PUBLIC,
    "chatops:link": SIGNED_IN,  # your own chat account, confirmed while signed in
    "incidents:severity_css": PUBLIC,  # badge colours as a stylesheet (no inline styles under the CSP)
    # incidents
    "incidents:dashboard": VIEW_INCIDENT, "incidents:list": VIEW_INCIDENT, "incidents:detail": VIEW_INCIDENT,
    "incidents:communications": VIEW_INCIDENT, "incidents:declare": "incidents.add_incident",
    "incidents:drills": VIEW_INCIDENT,
    "incidents:checklist": RESPOND, "incidents:action": RESPOND,
    # on call
    "oncall:now": "oncall.view_schedule", "oncall:my_shifts": "oncall.view_schedule",
    "oncall:my_time_zone": SIGNED_IN,  # your own profile's zone
    "oncall:schedules": "oncall.view_schedule", "oncall:schedule": "oncall.view_schedule",
    "oncall:schedule_new": "oncall.add_schedule", "oncall:schedule_edit": "oncall.change_schedule",
    "oncall:layer_new": "oncall.change_schedule", "oncall:layer_edit": "oncall.change_schedule",
    "oncall:layer_delete": "oncall.delete_layer", "oncall:schedule_calendar_rotate": "oncall.change_schedule",
    "oncall:my_calendar_rotate": "oncall.view_schedule",
    "oncall:override_new": "oncall.add_override", "oncall:override_delete": "oncall.delete_override",
    "oncall:handoff_note": "oncall.add_handoffnote", "oncall:page": "oncall.page_manually",
    "oncall:escalation_panel": VIEW_INCIDENT,
    "oncall:policies": "oncall.view_escalationpolicy", "oncall:policy": "oncall.view_escalationpolicy",
    "oncall:policy_new": "oncall.add_escalationpolicy", "oncall:policy_edit": "oncall.change_escalationpolicy",
    "oncall:ical_schedule": PUBLIC, "oncall:ical_user": PUBLIC,
    # notifications (people's own methods and rules: see OWNED)
    "notifications:ack": PUBLIC, "notifications:mine": SIGNED_IN,
    "notifications:action": PUBLIC,  # a signed, expiring one-tap action token (ntfy buttons)
    # Twilio's webhooks: public, each request verified by its X-Twilio-Signature (403 otherwise)
    "notifications:twilio_sms": PUBLIC, "notifications:twilio_status": PUBLIC, "notifications:twilio_voice": PUBLIC,
    "notifications:method_verify": "notifications.change_contactmethod",
    "notifications:list": "delivery.view_delivery", "notifications:detail": "delivery.view_delivery",
    "notifications:person": "notifications.view_contactmethod",
    "notifications:method_create": "notifications.add_contactmethod",
    "notifications:method_edit": "notifications.change_contactmethod",
    "notifications:method_test": "notifications.change_contactmethod",
    "notifications:method_rotate_secret": "notifications.change_contactmethod",
    "notifications:method_delete": "notifications.delete_contactmethod",
    "notifications:rule_create": "notifications.add_notificationrule",
    "notifications:rule_delete": "notifications.delete_notificationrule",
    "notifications:subscriptions": {"GET": "notifications.view_stakeholdersubscription",
                                    "POST": "notifications.add_stakeholdersubscription"},
    "notifications:subscription_delete": "notifications.delete_stakeholdersubscription",
    # integrations and runbooks
    "integrations:list": "integrations.view_integration", "integrations:detail": "integrations.view_integration",
    "integrations:create": "integrations.add_integration", "integrations:edit": "integrations.change_integration",
    "integrations:rotate": "integrations.change_integration",
    "integrations:key_copied": "integrations.view_integration", "integrations:revoke": "integrations.change_integration",
    "integrations:window": "integrations.change_integration", "integrations:test_alert": "integrations.send_test_alert",
    "integrations:runbooks": "integrations.view_runbook", "integrations:runbook": "integrations.view_runbook",
    # postmortems, action items, metrics
    "postmortems:list": "postmortems.view_postmortem", "postmortems:detail": "postmortems.view_postmortem",
    "postmortems:print": "postmortems.view_postmortem", "postmortems:export": "postmortems.view_postmortem",
    "postmortems:create": "postmortems.add_postmortem", "postmortems:sections": "postmortems.change_postmortem",
    "postmortems:details": "postmortems.change_postmortem", "postmortems:timeline": "postmortems.change_postmortem",
    "postmortems:transition": "postmortems.change_postmortem",  # publishing also needs publish_postmortem
    "postmortems:action_items": "postmortems.view_actionitem", "postmortems:action_item_create": "postmortems.add_actionitem",
    "postmortems:action_item": {"GET": "postmortems.view_actionitem", "POST": "postmortems.change_actionitem"},
    "postmortems:game_days": "postmortems.view_gameday", "postmortems:game_day": "postmortems.view_gameday",
    "postmortems:game_day_new": "postmortems.add_gameday", "postmortems:game_day_edit": "postmortems.change_gameday",
    "postmortems:game_day_start": "postmortems.change_gameday", "postmortems:game_day_results": "postmortems.change_gameday",
    "postmortems:game_day_cancel": "postmortems.change_gameday",
    "postmortems:game_day_feed_rotate": "postmortems.view_gameday",
    "postmortems:game_day_feed": PUBLIC,  # the secret token in the URL is the credential
    "postmortems:metrics": VIEW_INCIDENT, "postmortems:metrics_csv": VIEW_INCIDENT,
    # status page: public, and its staff side
    **{f"statuspage:{name}": PUBLIC for name in _PUBLIC_STATUS_PAGE},
    "statuspage_staff:overview": "statuspage.view_statuscomponent",
    "statuspage_staff:publish": "statuspage.publish_public_update",
    "statuspage_staff:maintenance_new": "incidents.add_maintenance",
    "statuspage_staff:maintenance_edit": "incidents.change_maintenance",
    # API routes whose action is not plain create / read / update / delete
    "api-root": VIEW_INCIDENT, "api-metrics": VIEW_INCIDENT,
    **{f"incident-{a}": RESPOND for a in (
        "acknowledge", "change-severity", "change-status", "notes", "reopen", "resolve", "responders", "roles",
        "war-room", "links", "link-delete", "change-type", "restriction")},
    "incident-updates": {"GET": VIEW_INCIDENT, "POST": RESPOND},
    "service-archive": "incidents.change_service", "service-restore": "incidents.change_service",
    "integration-rotate-key": "integrations.change_integration", "integration-revoke": "integrations.change_integration",
    "integration-archive": "integrations.change_integration", "integration-restore": "integrations.change_integration", "integration-test-alert": "integrations.send_test_alert",
    "postmortem-submit": "postmortems.change_postmortem", "postmortem-return-to-draft": "postmortems.change_postmortem",
    "game-day-start": "postmortems.change_gameday", "game-day-results": "postmortems.change_gameday",
    "game-day-cancel": "postmortems.change_gameday",
    "postmortem-publish": "postmortems.publish_postmortem", "postmortem-markdown": "postmortems.view_postmortem",
    "status-component-archive": "statuspage.change_statuscomponent",
    "status-component-restore": "statuspage.change_statuscomponent",
    "maintenance-step": "incidents.change_maintenance",
    "contact-method-test": "notifications.change_contactmethod",
    "contact-method-rotate-secret": "notifications.change_contactmethod",
    "schedule-oncall": "oncall.view_schedule", "schedule-oncall-all": "oncall.view_schedule",
    "schedule-shifts": "oncall.view_schedule", "schedule-archive": "oncall.change_schedule",
    "schedule-restore": "oncall.change_schedule",
    "schedule-rotate-calendar": "oncall.change_schedule",
    "user-deactivate": "auth.change_user", "user-detail": {"GET": "auth.view_user", "PUT": "auth.change_user",
                                                             "PATCH": "auth.change_user", "DELETE": "auth.change_user"},
    "user-me": SIGNED_IN, "user-me-calendar": SIGNED_IN, "user-me-rotate-calendar": SIGNED_IN,
}

# Models whose rows belong to one person: the permission to act on someone else's.
OWNED = {
    "notifications.contactmethod": "notifications.manage_any_contactmethod",
    "notifications.notificationrule": "notifications.manage_any_contactmethod",
}


# Who reads a secret in full (a webhook URL, a signing secret, a calendar-feed URL): its owner,
# or whoever holds the permission here (None: the owner only). Everyone else gets it masked.
SECRET_READERS = {
    "notifications.contactmethod": None,
    "notifications.stakeholdersubscription": "notifications.change_stakeholdersubscription",
    "oncall.schedule": "oncall.change_schedule",
    "oncall.calendartoken": None,
}


def may_read_secret(user, obj) -> bool:
    owner_id = getattr(obj, "user_id", None)
    if owner_id is not None and user.is_authenticated and owner_id == user.pk:
        return True
    perm = SECRET_READERS[obj._meta.label_lower]
    return perm is not None and user.has_perm(perm)


def rule_for(url_name: str, method: str) -> str | None:
    rule = RULES.get(url_name)
    if isinstance(rule, dict):
        return rule.get("GET" if method in ("HEAD", "OPTIONS") else method, rule.get("GET"))
    return rule


def allowed(user, rule: str) -> bool:
    if rule == PUBLIC:
        return True
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return rule == SIGNED_IN or user.has_perm(rule)


def may_act_for(user, owner_id: int, model_label: str) -> bool:
    """`user` may act on an object of `model_label` ("app.model") that belongs to `owner_id`."""
    return user.pk == owner_id or user.has_perm(OWNED[model_label])


class RuleMiddleware:
    """Enforce RULES on every page that is not the admin's or the API's (they have their own
    gate: the admin's staff check and model admins, and RulePermission)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or "admin" in match.namespaces or hasattr(view_func, "cls"):
            return None
        rule = rule_for(match.view_name, request.method)
        if rule is None:
            log.error("no permission rule for the URL name %r: refused (add it to incidents/rules.py)", match.view_name)
            raise PermissionDenied
        if allowed(request.user, rule):
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise PermissionDenied(describe(rule))


def describe(rule: str) -> str:
    """Why a person may not: the permission's name and the groups that hand it out (the 403 page)."""
    if rule in (PUBLIC, SIGNED_IN):
        return "Your account is not active."
    app_label, _, codename = rule.partition(".")
    perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
    if perm is None:
        return "This page is not open to anyone yet."
    groups = list(Group.objects.filter(permissions=perm).order_by("name").values_list("name", flat=True))
    held_by = f" The {' and '.join(groups)} group{'s' if len(groups) > 1 else ''} {'have' if len(groups) > 1 else 'has'} it." if groups else ""
    return f"This needs the permission “{perm.name}”, which your account does not have.{held_by}"


class RulePermission(DjangoModelPermissions):
    """The API's gate: the rule of the route's URL name, else the model's permission for the
    method (view to read; add, change, delete to write)."""

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated or not request.user.is_active:
            return False
        match = request.resolver_match
        rule = rule_for(match.url_name, request.method) if match else None
        if rule is not None:
            return allowed(request.user, rule)
        return super().has_permission(request, view)

    def has_object_permission(self, request, view, obj):
        label = obj._meta.label_lower
        if label in OWNED:
            return may_act_for(request.user, obj.user_id, label)
        return True
