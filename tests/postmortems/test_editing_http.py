"""Postmortem editing over real HTTP (live server, a signed-in session, CSRF): typed text is never
lost, whether an action item is added, refused, or a publish is blocked; the page marks what
publishing requires."""

import pytest

from postmortems import services
from postmortems.models import ActionItem
from tests.livehttp import LiveClient, field_value

from .conftest import fill_required

pytestmark = pytest.mark.django_db(transaction=True)


def test_adding_an_action_item_keeps_the_write_up(live_server, postmortem, responder, responder2):
    web = LiveClient(live_server.url).login("responder")
    number = postmortem.incident.number
    page = web.get(postmortem.get_absolute_url()).text
    assert page.count("Required to publish") >= 3  # the legend and each required section
    assert "Needed to publish" in page.split('for="id_item-owner"', 1)[1].split("</label>", 1)[0]
    assert "Needed to publish" in page.split('for="id_item-due_date"', 1)[1].split("</label>", 1)[0]

    typed = {"section-root-cause": "A deploy removed an index.", "section-impact-users": "40 % of checkouts failed."}
    # An item without a title: refused, and the write-up and the item come back as typed; nothing saved.
    refused = web.post(f"/postmortems/{number}/sections/", {**typed, "item-description": "Alert on dropped indexes",
                                                             "item-category": "detection", "item-priority": "high", "add_item": "1"})
    assert refused.status_code == 400 and "This field is required" in refused.text
    assert field_value(refused.text, "section-root-cause") == "A deploy removed an index."
    assert field_value(refused.text, "item-description") == "Alert on dropped indexes"
    assert postmortem.sections.get(key="root-cause").body == "" and not ActionItem.objects.exists()

    added = web.post(f"/postmortems/{number}/sections/", {
        **typed, "item-title": "Alert when an index is dropped", "item-owner": str(responder2.pk), "item-due_date": "2099-01-01",
        "item-category": "detection", "item-priority": "high", "add_item": "1"}, follow=True)
    assert added.status_code == 200 and "Action item added; the write-up was saved with it." in added.text
    assert postmortem.sections.get(key="root-cause").body == "A deploy removed an index."
    item = ActionItem.objects.get()
    assert (item.title, item.owner, item.postmortem_id) == ("Alert when an index is dropped", responder2, postmortem.pk)
    assert field_value(added.text, "section-root-cause") == "A deploy removed an index."

    # Save write-up with an item started but not added: the write-up is saved, the item stays typed.
    kept = web.post(f"/postmortems/{number}/sections/", {**typed, "section-root-cause": "An index was dropped.",
                                                          "item-title": "Runbook for index rebuilds", "save": "1"})
    assert kept.status_code == 200 and "not added yet" in kept.text
    assert field_value(kept.text, "item-title") == "Runbook for index rebuilds"
    assert postmortem.sections.get(key="root-cause").body == "An index was dropped." and ActionItem.objects.count() == 1


def test_a_blocked_publish_keeps_the_typed_public_summary(live_server, postmortem, responder):
    web = LiveClient(live_server.url).login("responder")
    number = postmortem.incident.number
    services.postmortem_submit_for_review(postmortem=postmortem, by=responder)
    summary = "A database change slowed checkout for two hours; it is fixed and monitored."

    blocked = web.post(f"/postmortems/{number}/publish/", {"public_summary": summary})
    assert blocked.status_code == 400
    assert "Fill in the required section(s) before publishing" in blocked.text
    publish_form = blocked.text.split('id="id_publish_summary"', 1)[1]
    assert publish_form.split(">", 1)[1].split("</textarea>", 1)[0] == summary
    postmortem.refresh_from_db()
    assert postmortem.status == "in_review" and postmortem.public_summary == ""

    fill_required(postmortem, responder)
    published = web.post(f"/postmortems/{number}/publish/", {"public_summary": summary}, follow=True)
    assert published.status_code == 200 and "Postmortem published." in published.text
    postmortem.refresh_from_db()
    assert postmortem.status == "published" and postmortem.public_summary == summary


def test_a_refused_write_up_save_keeps_the_text(live_server, postmortem, responder):
    """Saving a write-up the service refuses (here: published meanwhile, in another tab) shows the text again."""
    web = LiveClient(live_server.url).login("responder")
    number = postmortem.incident.number
    fill_required(postmortem, responder)
    services.postmortem_submit_for_review(postmortem=postmortem, by=responder)
    services.postmortem_publish(postmortem=postmortem, by=responder)
    refused = web.post(f"/postmortems/{number}/sections/", {"section-lessons": "Check migrations in review.", "save": "1"})
    assert refused.status_code == 400 and "published and read-only" in refused.text
    assert "Check migrations in review." in refused.text
