"""What a reader of the public page sees: a resolved incident reads resolved, each day's tooltip
gives the impact and how long it lasted, degraded time colours a day but costs no uptime
(Statuspage's weights), history entries carry their impact, groups fold."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import services as core
from incidents.statuspage import services
from incidents.statuspage.cache import bump
from incidents.statuspage.models import ComponentStatusPeriod, StatusComponent
from incidents.statuspage.selectors import snapshot
from tests.incidents.factories import declare

pytestmark = pytest.mark.django_db


def _resolved_quietly(responder, components, title="Checkout errors"):
    """Published with an "identified" update, then resolved without a public "resolved" update."""
    inc = declare(title, by=responder)
    services.incident_publish_update(incident=inc, body="We found the cause.", by=responder, status="identified",
                                     components={components["web"]: "major_outage"})
    core.incident_resolve(incident=inc, by=responder)
    bump()
    return inc


def test_a_resolved_incident_reads_resolved_even_without_a_resolved_update(client, components, responder):
    inc = _resolved_quietly(responder, components)
    page = client.get(f"/status/incidents/{inc.public.code}/").content.decode()
    updates = page[page.index('class="sp-updates"'):]
    assert updates.index("Resolved</strong>") < updates.index("Identified</strong>")  # newest first
    assert "This incident has been resolved." in page
    history = client.get("/status/history/").content.decode()
    entry = history[history.index("Checkout errors"):]
    assert entry.index("<strong>Resolved</strong>") < entry.index("</article>")
    assert "We found the cause." not in entry[:entry.index("</article>")]  # not the stale "identified" text


def test_no_second_resolved_entry_when_one_was_posted(client, components, responder):
    inc = declare("Queue stuck", by=responder)
    services.incident_publish_update(incident=inc, body="Looking.", by=responder, components={components["web"]: "partial_outage"})
    services.incident_publish_update(incident=inc, body="All clear now.", by=responder, status="resolved")
    bump()
    page = client.get(f"/status/incidents/{inc.public.code}/").content.decode()
    assert page.count("Resolved</strong>") == 1 and "This incident has been resolved." not in page


def test_history_entries_carry_their_impact(client, components, responder):
    inc = _resolved_quietly(responder, components, "Everything down")
    inc.public.refresh_from_db()
    history = client.get("/status/history/").content.decode()
    assert re.search(rf'<article class="sp-history-item sp-impact-{inc.public.impact}">\s*<h3><a[^>]*>Everything down', history)
    assert f"{inc.public.get_impact_display()} impact</span>" in history
    assert "None impact" not in history


def test_degraded_time_colours_the_day_but_costs_no_uptime_and_tooltips_give_duration(client, components):
    api = components["api"]
    now = timezone.now()
    StatusComponent.objects.filter(pk=api.pk).update(start_date=(now - timedelta(days=200)).date())
    # 08:00 local three days ago, so both periods fall on the same day whatever the hour of the run
    day = timezone.localtime(now - timedelta(days=3)).replace(hour=8, minute=0, second=0, microsecond=0)
    ComponentStatusPeriod.objects.create(component=api, status="degraded_performance", started_at=day, ended_at=day + timedelta(hours=2))
    bars = snapshot(now).bars[api.pk]
    assert bars.uptime == 100.0  # degraded performance weighs 0 %
    bad = {d.day: d for d in bars.days}[timezone.localdate(day)]
    assert bad.status == "degraded_performance" and bad.spans == {"degraded_performance": 7200.0}
    ComponentStatusPeriod.objects.create(component=api, status="partial_outage", started_at=day + timedelta(hours=3),
                                         ended_at=day + timedelta(hours=3, minutes=57))
    bump()
    html = client.get("/status/").content.decode()
    tip = re.search(r'<li class="sp-bar s-partial_outage" tabindex="0"><span class="sp-tip" role="tooltip">(.*?)</span></li>', html).group(1)
    assert '<span class="sp-tip-span">Partial outage · 57 min</span><span class="sp-tip-span">Degraded performance · 2 h</span>' in tip


def test_component_groups_fold(client, components):
    html = client.get("/status/").content.decode()
    assert re.search(r'<details class="sp-group-box" open>\s*<summary class="sp-group-head"><h3 class="sp-group-name" id="group-\w+">Platform</h3>', html)
