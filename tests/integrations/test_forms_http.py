"""The integration form over real HTTP (live server, a signed-in session, CSRF): severity rules,
grouping labels and the field mapping posted as rows, the rows' buttons without scripts, errors
per row, and the new key shown until the person confirms they copied it."""

import pytest

from incidents.integrations.models import Integration, hash_key
from tests.livehttp import LiveClient, field_value

from .form_data import integration_post

pytestmark = pytest.mark.django_db(transaction=True)


def test_rules_grouping_and_mapping_are_posted_as_rows(live_server, admin_user, service, sev):
    web = LiveClient(live_server.url).login("boss")
    new = web.get("/integrations/new/")
    assert new.status_code == 200 and 'name="rules-0-label"' in new.text and "<textarea" not in new.text.split("Severity rules", 1)[1].split("Group alerts", 1)[0]

    typed = integration_post(service=service.pk, kind="webhook", default_severity=sev("P2").pk, name="Queue",
                             rules=[("team", "db", "and"), ("severity", "critical, page", "P0")], group=["alertname"])
    # "Add a rule row" without scripts: the same page, one more row, the typed rows kept, nothing saved.
    more = web.post("/integrations/new/", {**typed, "rows": "add:rules"})
    assert more.status_code == 200 and field_value(more.text, "rules-2-label") == "" and field_value(more.text, "rules-1-values") == "critical, page"
    assert "This field is required" not in more.text and not Integration.objects.exists()
    # "Remove" on the first row: the second becomes the first.
    fewer = web.post("/integrations/new/", {**typed, "rows": "remove:rules-0"})
    assert field_value(fewer.text, "rules-0-label") == "severity" and field_value(fewer.text, "rules-1-label") is None

    # Bad rows: a 400 naming the problem on its row, every row as typed; nothing saved.
    bad = web.post("/integrations/new/", integration_post(
        service=service.pk, kind="webhook", default_severity=sev("P2").pk,
        rules=[("severity", "critical", "P1"), ("team", "", "P9"), ("x" * 500, "y", "P2")], group=["cluster", "cluster"],
        mapping={"status": "state..value"}))
    assert bad.status_code == 400
    assert "Give at least one value" in bad.text and "Select a valid choice" in bad.text and "at most 100 characters" in bad.text
    assert "Already in the list" in bad.text and "Write a dotted path" in bad.text
    assert field_value(bad.text, "rules-0-values") == "critical" and field_value(bad.text, "map-status") == "state..value"
    assert not Integration.objects.exists()

    saved = web.post("/integrations/new/", {**typed, "map-title": "event.name", "map-status": "event.state"})
    assert saved.status_code == 302
    integration = Integration.objects.get()
    assert integration.severity_rules == [{"match": {"team": "db", "severity": ["critical", "page"]}, "severity": "P0"}]
    assert integration.group_by == ["alertname"]
    assert integration.field_mapping == {"title": "event.name", "status": "event.state"}

    # Editing shows the stored JSON as the same rows, and saving rows edits it.
    edit_url = f"/integrations/{integration.public_id}/edit/"
    edit = web.get(edit_url).text
    assert (field_value(edit, "rules-0-label"), field_value(edit, "rules-1-values")) == ("team", "critical, page")
    assert 'value="and" selected' in edit and field_value(edit, "group-0-label") == "alertname"
    changed = integration_post(service=service.pk, default_severity=sev("P2").pk, name="Queue",
                               rules=[("severity", "warning", "P3")], group=[], mapping={"title": "event.name"})
    assert web.post(edit_url, changed).status_code == 302
    integration.refresh_from_db()
    assert integration.severity_rules == [{"match": {"severity": "warning"}, "severity": "P3"}]
    assert integration.group_by == [] and integration.field_mapping == {"title": "event.name"}


def test_new_key_stays_visible_until_the_person_confirms_they_copied_it(live_server, admin_user, service, sev):
    web = LiveClient(live_server.url).login("boss")
    created = web.post("/integrations/new/", integration_post(service=service.pk, kind="alertmanager", default_severity=sev("P2").pk))
    assert created.status_code == 302
    integration = Integration.objects.get()
    url = created.headers["Location"]

    first = web.get(url)
    key = first.text.split('aria-label="Integration key"><code>', 1)[1].split("</code>", 1)[0]
    assert hash_key(key) == integration.key_hash
    assert first.headers["Cache-Control"] == "no-store, private"  # never kept by a cache
    again = web.get(url)  # a reload, or coming back from another page, does not lose it
    assert key in again.text and "I have copied the key" in again.text
    assert key not in LiveClient(live_server.url).login("boss").get(url).text  # another session never sees it

    confirmed = web.post(f"/integrations/{integration.public_id}/key-copied/", follow=True)
    assert confirmed.status_code == 200 and "Key hidden for good" in confirmed.text and key not in confirmed.text
    after = web.get(url)
    assert key not in after.text and integration.key_prefix in after.text and "I have copied the key" not in after.text

    # A rotated key: shown until confirmed too; a key rotated again meanwhile is never shown stale.
    web.post(f"/integrations/{integration.public_id}/rotate-key/")
    rotated = web.get(url).text.split('aria-label="Integration key"><code>', 1)[1].split("</code>", 1)[0]
    assert rotated != key and key not in web.get(url).text
    other = LiveClient(live_server.url).login("boss")
    other.post(f"/integrations/{integration.public_id}/rotate-key/")
    assert rotated not in web.get(url).text  # it no longer works, so it is not offered
