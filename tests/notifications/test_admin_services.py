"""The admin writes contact methods, notification rules and stakeholder subscriptions through
the services: the default rule, the checks and the audit entries are the same as the pages' and
the API's."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from oncall.notifications import services
from oncall.notifications.models import ContactMethod, NotificationRule, StakeholderSubscription

pytestmark = pytest.mark.django_db

RULES_EMPTY = {"rules-TOTAL_FORMS": 0, "rules-INITIAL_FORMS": 0, "rules-MIN_NUM_FORMS": 0, "rules-MAX_NUM_FORMS": 1000}


def _log(obj):
    return [(e.user.username, e.get_change_message()) for e in LogEntry.objects.filter(
        object_id=str(obj.pk), content_type__model=obj._meta.model_name).order_by("action_time", "pk")]


def _method_form(user, **overrides):
    return {"user": user.pk, "kind": "email", "target": "pager@example.com", "label": "Pager", "is_active": "on",
            "rate_limit_count": 5, "rate_limit_window": "00:10:00", **RULES_EMPTY, **overrides}


def test_contact_method_added_in_the_admin_gets_the_default_rule_and_an_audit_entry(client, admin_user, responder):
    client.force_login(admin_user)
    response = client.post(reverse("admin:notifications_contactmethod_add"), _method_form(responder))
    assert response.status_code == 302
    method = ContactMethod.objects.get(user=responder)
    assert list(method.rules.values_list("user", "delay_minutes")) == [(responder.pk, 0)]
    assert _log(responder) == [("boss", "contact method added: Email pager@example.com (Pager)")]


def test_contact_method_rules_edited_in_the_admin_go_through_the_rule_services(client, admin_user, responder):
    method = services.contact_method_create(user=responder, kind="email", target="pager@example.com", label="Pager")
    rule = method.rules.get()
    client.force_login(admin_user)
    url = reverse("admin:notifications_contactmethod_change", args=[method.pk])
    too_late = client.post(url, _method_form(responder, **{
        "rules-TOTAL_FORMS": 2, "rules-INITIAL_FORMS": 1, "rules-0-id": rule.pk, "rules-0-contact_method": method.pk,
        "rules-0-delay_minutes": 0, "rules-1-contact_method": method.pk, "rules-1-delay_minutes": 99999}))
    assert too_late.status_code == 200 and "between 0 and 1440 minutes" in too_late.text
    assert method.rules.count() == 1
    response = client.post(url, _method_form(responder, label="Phone", **{
        "rules-TOTAL_FORMS": 2, "rules-INITIAL_FORMS": 1, "rules-0-id": rule.pk, "rules-0-contact_method": method.pk,
        "rules-0-delay_minutes": 0, "rules-0-DELETE": "on", "rules-1-contact_method": method.pk, "rules-1-delay_minutes": 5}))
    assert response.status_code == 302
    assert list(method.rules.values_list("user", "delay_minutes")) == [(responder.pk, 5)]
    assert _log(responder) == [
        ("boss", "contact method changed (label): Email pager@example.com (Phone)"),
        ("boss", "rule deleted: Email pager@example.com (Phone) after 0 min, high urgency"),
        ("boss", "rule added: Email pager@example.com (Phone) after 5 min, high urgency"),
    ]


def test_contact_methods_deleted_in_bulk_from_the_admin_are_audited_each(client, admin_user, responder):
    a = services.contact_method_create(user=responder, kind="email", target="a@example.com")
    b = services.contact_method_create(user=responder, kind="email", target="b@example.com")
    client.force_login(admin_user)
    client.post(reverse("admin:notifications_contactmethod_changelist"),
                {"action": "delete_selected", "_selected_action": [a.pk, b.pk], "post": "yes"})
    assert not ContactMethod.objects.exists()
    assert sorted(message for _u, message in _log(responder)) == [
        "contact method deleted: Email a@example.com", "contact method deleted: Email b@example.com"]


def test_notification_rule_admin_refuses_what_the_service_refuses(client, admin_user, responder, responder2):
    method = services.contact_method_create(user=responder, kind="email", target="pager@example.com", add_default_rule=False)
    client.force_login(admin_user)
    other = client.post(reverse("admin:notifications_notificationrule_add"),
                        {"user": responder2.pk, "contact_method": method.pk, "delay_minutes": 5, "urgency": "high"})
    assert other.status_code == 200 and "this person" in other.text
    assert not NotificationRule.objects.exists()
    ok = client.post(reverse("admin:notifications_notificationrule_add"),
                     {"user": responder.pk, "contact_method": method.pk, "delay_minutes": 5, "urgency": "low"})
    assert ok.status_code == 302
    assert _log(responder) == [("boss", "rule added: Email pager@example.com after 5 min, low urgency")]


def test_stakeholder_subscription_admin_refuses_what_the_service_refuses_and_audits(client, admin_user, sev, receiver):
    client.force_login(admin_user)
    form = {"name": "Execs", "kind": "webhook", "target": f"{receiver.url}/x", "frequency": "hourly", "is_active": "on",
            "severities": [sev("P0").pk]}
    refused = client.post(reverse("admin:notifications_stakeholdersubscription_add"), form)
    assert refused.status_code == 200 and "Slack, Teams or an email list" in refused.text
    assert not StakeholderSubscription.objects.exists()
    ok = client.post(reverse("admin:notifications_stakeholdersubscription_add"), {**form, "kind": "email", "target": "execs@example.com"})
    assert ok.status_code == 302
    sub = StakeholderSubscription.objects.get()
    assert sub.created_by == admin_user and [s.key for s in sub.severities.all()] == ["P0"]
    changed = client.post(reverse("admin:notifications_stakeholdersubscription_change", args=[sub.pk]),
                          {**form, "kind": "email", "target": "execs@example.com", "severities": [sev("P0").pk, sev("P1").pk]})
    assert changed.status_code == 302
    assert [s.key for s in sub.severities.order_by("rank")] == ["P0", "P1"]
    assert [m for _u, m in _log(sub)] == ["Email, Hourly digest while open", "severities"]
