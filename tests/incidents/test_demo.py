from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from incidents.models import EventDelivery, Incident, IncidentStatus

pytestmark = pytest.mark.django_db


def test_seed_demo_loads_once_with_believable_history():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo data loaded." in out.getvalue() and "demo-password-123" in out.getvalue()
    assert get_user_model().objects.filter(username="dana", groups__name="Responder").exists()
    open_ = Incident.objects.exclude(status=IncidentStatus.RESOLVED)
    assert open_.count() == 2 and Incident.objects.count() == 8  # a game day among them
    past = Incident.objects.get(title="Database primary unreachable")
    assert past.number == f"INC-{past.declared_at:%Y%m%d}-001"
    assert past.declared_at < past.acknowledged_at < past.mitigated_at < past.resolved_at
    core_kinds = ["declared", "acknowledged", "status_changed", "mitigated", "status_update", "resolved", "role_assigned"]
    # the past is history, not news: it is not replayed to subscribers (no pages for last week's outage)
    assert not past.timeline.filter(kind__in=core_kinds, dispatched_at__isnull=True).exists()
    assert not EventDelivery.objects.filter(event__incident=past, status="pending").exists()
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert "already present" in again.getvalue() and Incident.objects.count() == 8
