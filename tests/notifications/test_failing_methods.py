"""A contact method that fails for good is marked, its owner hears about it through another of
their methods, the person page shows it, the policy checks count it, and the next delivery that
gets through clears it."""

import pytest
from django.urls import reverse

from delivery import outbox
from delivery.models import Delivery, DeliveryStatus
from oncall.notifications import selectors, services
from oncall.notifications.models import ContactMethod
from oncall.selectors import policy_problems
from tests.incidents.factories import declare
from tests.oncall.conftest import Condition, TargetKind, make_policy

from .factories import email_method, page_message, webhook_method

pytestmark = pytest.mark.django_db
S = DeliveryStatus


def test_a_permanent_failure_marks_the_method_and_tells_its_owner_once(receiver, smtp_server, responder):
    receiver.behaviour["/gone"] = (410, 0)
    hook = webhook_method(responder, f"{receiver.url}/gone")
    mail = email_method(responder)
    incident = declare(by=responder)
    rows = services.notify_user(user=responder, message=page_message(incident), dedup_key="k1")
    follow_up = []
    for row in rows:
        follow_up += outbox.deliver(row.pk)
    hook.refresh_from_db()
    assert hook.failing_since is not None and hook.last_error == "HTTP 410"
    [notice] = follow_up
    assert (notice.kind, notice.destination_id, notice.user_id) == ("method_failing", mail.pk, responder.pk)
    outbox.deliver(notice.pk)
    mails = smtp_server.wait_for(2)
    assert any("is failing" in m.message["Subject"] and hook.display_target in m.message["Subject"] for m in mails)

    # failing again: marked already, its owner is not told twice
    rows = services.notify_user(user=responder, message=page_message(incident), dedup_key="k2")
    webhook_row = next(r for r in rows if r.destination_id == hook.pk)
    assert outbox.deliver(webhook_row.pk) == []
    assert Delivery.objects.filter(kind="method_failing").count() == 1


def test_a_delivery_that_gets_through_clears_the_mark(receiver, responder):
    receiver.behaviour["/flaky"] = (404, 0)
    hook = webhook_method(responder, f"{receiver.url}/flaky")
    [row] = services.notify_user(user=responder, message=page_message(declare(by=responder)), dedup_key="k")
    outbox.deliver(row.pk)
    hook.refresh_from_db()
    assert hook.is_failing
    receiver.behaviour["/flaky"] = (200, 0)
    test = services.contact_method_send_test(method=hook, by=responder)
    outbox.deliver(test.pk)
    hook.refresh_from_db()
    assert not hook.is_failing and hook.last_error == ""


def test_the_person_page_shows_a_failing_method(client, receiver, responder):
    receiver.behaviour["/gone"] = (410, 0)
    hook = webhook_method(responder, f"{receiver.url}/gone")
    outbox.deliver(services.contact_method_send_test(method=hook, by=responder).pk)
    client.force_login(responder)
    page = client.get(reverse("notifications:person", kwargs={"user_id": responder.pk})).text
    assert "Failing since" in page and "HTTP 410" in page


def test_the_policy_checks_count_someone_whose_methods_all_fail(receiver, responder, responder2):
    receiver.behaviour["/gone"] = (410, 0)
    hook = webhook_method(responder, f"{receiver.url}/gone")
    email_method(responder2)
    policy = make_policy([(0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, responder), (TargetKind.USER, responder2)])])
    assert policy_problems([policy])[policy.pk] == []

    outbox.deliver(services.contact_method_send_test(method=hook, by=responder).pk)
    assert ContactMethod.objects.get(pk=hook.pk).is_failing
    assert selectors.unreachable([responder, responder2]) == {
        responder.pk: "has only failing contact methods (each failed for good since it last worked)"}
    [problem] = policy_problems([policy])[policy.pk]
    assert problem.startswith("Level 1: ") and "only failing contact methods" in problem
