"""On-call fixtures: schedules and policies made through the services, and people with
real contact methods."""

from datetime import time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from incidents.models import Severity
from oncall.models import Condition, EscalationLevel, EscalationPolicy, EscalationTarget, LevelMode, ServicePolicy, TargetKind
from oncall.services.schedules import LayerSpec, schedule_create
from tests.incidents.factories import ServiceFactory


def person(username, **kw):
    User = get_user_model()
    return User.objects.create_user(username, f"{username}@example.com", "pw-123456", first_name=username.title(), **kw)


@pytest.fixture
def people(db):
    return {name: person(name) for name in ("alice", "bob", "carol", "dave")}


def make_schedule(name, participants, *, tz="UTC", rotation="weekly", starts_on=None, handoff=time(9), **kw):
    starts_on = starts_on or (timezone.localdate() - timedelta(days=21))
    return schedule_create(name=name, time_zone=tz, layers=[
        LayerSpec(name="Primary", starts_on=starts_on, participants=[(u, 1) for u in participants], rotation=rotation,
                  handoff_time=handoff, handoff_weekday=starts_on.weekday(), **kw)])


def make_policy(levels, *, name="Policy", repeat=0, repeat_after=900, service=None):
    """levels: [(delay_seconds, condition, [(kind, obj)], severities, mode)]"""
    policy = EscalationPolicy.objects.create(name=name, repeat=repeat, repeat_after_seconds=repeat_after)
    for pos, spec in enumerate(levels):
        delay, condition, targets = spec[:3]
        severities = spec[3] if len(spec) > 3 else ()
        mode = spec[4] if len(spec) > 4 else LevelMode.ALL
        level = EscalationLevel.objects.create(policy=policy, position=pos, delay_seconds=delay, condition=condition, mode=mode,
                                               round_robin_seconds=60)
        level.severities.set(Severity.objects.filter(key__in=severities))
        for i, (kind, obj) in enumerate(targets):
            EscalationTarget.objects.create(level=level, position=i, kind=kind, **{kind: obj})
    if service is not None:
        ServicePolicy.objects.create(service=service, policy=policy)
    return policy


@pytest.fixture
def service(db):
    return ServiceFactory(name="Checkout", slug="checkout")


__all__ = ["Condition", "TargetKind", "make_policy", "make_schedule", "person"]
