"""The incident page's escalation panel shows what WILL happen, computed from the incident's
state now, not from what the worker has got round to: right after declaring, the policy that
runs; right after acknowledging, no pending acknowledgement step; after resolving, nothing. It
refreshes itself from a small fragment endpoint while the page is open."""

import os
import re

import pytest
from django.urls import reverse

from incidents import services as core
from incidents.events import run_subscribers
from oncall.models import EscalationStep, StepStatus
from tests.conftest import browser_login, wait_for
from tests.incidents.factories import declare

from .conftest import Condition, TargetKind, make_policy, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def ladder(service):
    alice, bob = person("alice"), person("bob")
    make_policy([
        (0, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, alice)]),
        (300, Condition.NOT_ACKNOWLEDGED, [(TargetKind.USER, bob)]),
        (900, Condition.NOT_RESOLVED, [(TargetKind.USER, alice)]),
    ], name="Checkout ladder", service=service)
    return alice, bob


def fragment(client, incident) -> str:
    response = client.get(reverse("oncall:escalation_panel", args=[incident.number]))
    assert response.status_code == 200
    return response.content.decode()


def upcoming(html: str) -> list[str]:
    """The lines of the panel's "Next" list, tags stripped."""
    block = re.search(r'<ul class="oc-steps" id="esc-next">(.*?)</ul>', html, re.S)
    if not block:
        return []
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip() for item in re.findall(r"<li>(.*?)</li>", block.group(1), re.S)]


def run_events(incident):
    for event in incident.timeline.filter(dispatched_at__isnull=True).order_by("pk"):
        run_subscribers(event)


def test_right_after_declaring_the_panel_shows_the_policy_that_runs(client, responder, ladder, service):
    client.force_login(responder)
    incident = declare(services=[service], by=responder)  # the worker has not started the escalation yet
    html = fragment(client, incident)
    assert "No escalation policy runs" not in html
    assert "Checkout ladder" in html
    lines = upcoming(html)
    assert lines[0].startswith("level 1, Alice, now") and "if not acknowledged" in lines[0]
    assert lines[1].startswith("level 2, Bob, in 5 min")
    # Once the worker has started it (and paged level 1 at once), the panel says the same thing.
    run_events(incident)
    after = fragment(client, incident)
    assert upcoming(after)[0].startswith("level 2, Bob, in 5 min")
    assert "level 1: Alice" in after


def test_right_after_acknowledging_no_acknowledgement_step_is_pending(client, responder, ladder, service):
    client.force_login(responder)
    incident = declare(services=[service], by=responder)
    run_events(incident)
    assert any(line.startswith("level 2, Bob") for line in upcoming(fragment(client, incident)))
    core.incident_acknowledge(incident=incident, by=responder)  # the worker has not cancelled level 2 yet
    assert EscalationStep.objects.filter(escalation__incident=incident, level=1, status=StepStatus.PENDING).exists()
    lines = upcoming(fragment(client, incident))
    assert not any("Bob" in line for line in lines), lines
    assert lines == ["level 3, Alice, in 15 min if not resolved"]


def test_after_resolving_no_next_level(client, responder, ladder, service):
    client.force_login(responder)
    incident = declare(services=[service], by=responder)
    run_events(incident)
    core.incident_resolve(incident=incident, by=responder, summary="Fixed")
    html = fragment(client, incident)
    assert upcoming(html) == []
    assert "Nothing more is scheduled" in html


def test_the_incident_page_wires_the_panel_to_refresh_itself(client, responder, ladder, service):
    client.force_login(responder)
    incident = declare(services=[service], by=responder)
    html = client.get(incident.get_absolute_url()).content.decode()
    url = reverse("oncall:escalation_panel", args=[incident.number])
    assert f'data-refresh-url="{url}"' in html
    assert "js/refresh.js" in html
    assert "<script>" not in html  # no inline script: the strict CSP allows files only


def test_the_fragment_needs_a_login(client, ladder, service):
    incident = declare(services=[service])
    response = client.get(reverse("oncall:escalation_panel", args=[incident.number]))
    assert response.status_code == 302


@pytest.mark.browser
def test_panel_changes_in_the_browser_after_another_client_acknowledges(browser_page, live_server, responder, responder2, ladder, service):
    incident = declare(services=[service], by=responder)
    run_events(incident)
    browser_login(browser_page, live_server, "responder")
    browser_page.goto(live_server.url + incident.get_absolute_url())
    panel = browser_page.locator("#oncall-escalation")
    assert "Bob" in panel.inner_text()
    core.incident_acknowledge(incident=incident, by=responder2)  # someone else, elsewhere
    wait_for(lambda: "Bob" not in browser_page.locator("#oncall-escalation").inner_text(), timeout=25,
             what="the panel to drop level 2 after the acknowledgement")
    text = browser_page.locator("#oncall-escalation").inner_text()
    assert "level 3" in text
    os.makedirs("/tmp/paging10-shots", exist_ok=True)
    browser_page.screenshot(path="/tmp/paging10-shots/panel-after-ack.png", full_page=True)


def test_right_after_reopening_the_restarted_policy_replaces_the_old_run(client, responder, ladder, service):
    client.force_login(responder)
    incident = declare(services=[service], by=responder)
    run_events(incident)
    core.incident_resolve(incident=incident, by=responder, summary="Fixed")  # the worker has not stopped the run yet
    core.incident_reopen(incident=incident, by=responder, reason="Back again")  # the worker has not restarted it yet
    lines = upcoming(fragment(client, incident))
    assert [line.split(",")[0] for line in lines] == ["level 1", "level 2", "level 3"], lines
    assert lines[0].startswith("level 1, Alice, now")
