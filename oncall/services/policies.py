"""Escalation policies: saved whole (levels and targets) in one transaction, validated first."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from incidents.audit import audit_record
from incidents.exceptions import InUse, InvalidInput
from incidents.models import Service, Severity

from ..models import (
    Condition,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    IntegrationPolicy,
    Layer,
    LevelMode,
    Schedule,
    ServicePolicy,
    TargetKind,
    TypePolicy,
)

User = get_user_model()
TARGET_MODELS = {TargetKind.SCHEDULE: Schedule, TargetKind.LAYER: Layer, TargetKind.USER: User, TargetKind.GROUP: Group}


@dataclass
class LevelSpec:
    targets: list  # [(kind, id)] paged
    delay_seconds: int = 0
    condition: str = Condition.NOT_ACKNOWLEDGED
    severities: list = field(default_factory=list)  # severity keys
    mode: str = LevelMode.ALL
    round_robin_seconds: int = 300
    inform: list = field(default_factory=list)  # [(kind, id)] informed: no acknowledge ladder, no phone


def _check(levels: list[LevelSpec]) -> list:
    resolved = []
    for n, level in enumerate(levels, start=1):
        if not level.targets and not level.inform:
            raise InvalidInput(f"Level {n} has no target: add a schedule, layer, user or group.", field="levels")
        if level.condition not in Condition.values:
            raise InvalidInput(f"Level {n}: unknown condition “{level.condition}”.", field="levels")
        if level.mode not in LevelMode.values:
            raise InvalidInput(f"Level {n}: unknown mode “{level.mode}”.", field="levels")
        if level.delay_seconds < 0 or level.round_robin_seconds < 1:
            raise InvalidInput(f"Level {n}: delays cannot be negative.", field="levels")
        severities = list(Severity.objects.filter(key__in=level.severities))
        if len(severities) != len(set(level.severities)):
            raise InvalidInput(f"Level {n}: unknown severity in {', '.join(level.severities)}.", field="levels")
        targets = []
        for inform, (kind, pk) in [(False, t) for t in level.targets] + [(True, t) for t in level.inform]:
            model = TARGET_MODELS.get(kind)
            obj = model.objects.filter(pk=pk).first() if model else None
            if obj is None:
                raise InvalidInput(f"Level {n}: no {kind} with id {pk}.", field="levels")
            targets.append((kind, obj, inform))
        resolved.append((level, severities, targets))
    return resolved


@transaction.atomic
def policy_save(*, name: str, levels: list[LevelSpec], description: str = "", repeat: int = 0, repeat_after_seconds: int = 900,
                services: list[Service] | None = None, integrations: list | None = None, incident_types: list | None = None,
                policy: EscalationPolicy | None = None, by=None) -> EscalationPolicy:
    """Create or replace a policy (`by`: who, for the audit log). Running escalations keep their
    snapshot."""
    if not name.strip():
        raise InvalidInput("A policy needs a name.", field="name")
    if EscalationPolicy.objects.filter(name=name.strip()).exclude(pk=policy.pk if policy else None).exists():
        raise InvalidInput(f"A policy named “{name}” already exists.", field="name")
    if not levels:
        raise InvalidInput("A policy needs at least one level.", field="levels")
    if repeat < 0 or repeat > 10:
        raise InvalidInput("Repeat between 0 and 10 times.", field="repeat")
    resolved = _check(levels)
    action = "changed" if policy is not None else "added"
    policy = policy or EscalationPolicy()
    policy.name, policy.description, policy.repeat, policy.repeat_after_seconds = name.strip(), description, repeat, repeat_after_seconds
    policy.save()
    policy.levels.all().delete()
    for position, (spec, severities, targets) in enumerate(resolved):
        level = EscalationLevel.objects.create(policy=policy, position=position, condition=spec.condition, delay_seconds=spec.delay_seconds,
                                               mode=spec.mode, round_robin_seconds=spec.round_robin_seconds)
        level.severities.set(severities)
        EscalationTarget.objects.bulk_create([EscalationTarget(level=level, position=i, kind=kind, inform=inform, **{kind: obj})
                                              for i, (kind, obj, inform) in enumerate(targets)])
    if services is not None:
        ServicePolicy.objects.filter(policy=policy).exclude(service__in=services).delete()
        for service in services:
            ServicePolicy.objects.update_or_create(service=service, defaults={"policy": policy})
    if integrations is not None:
        IntegrationPolicy.objects.filter(policy=policy).exclude(integration__in=integrations).delete()
        for integration in integrations:
            IntegrationPolicy.objects.update_or_create(integration=integration, defaults={"policy": policy})
    if incident_types is not None:
        TypePolicy.objects.filter(policy=policy).exclude(incident_type__in=incident_types).delete()
        for incident_type in incident_types:
            TypePolicy.objects.update_or_create(incident_type=incident_type, defaults={"policy": policy})
    audit_record(by=by, obj=policy, action=action,
                 message=f"{len(resolved)} level{'s' if len(resolved) != 1 else ''}" + (f", repeats {repeat}×" if repeat else ""))
    return policy


@transaction.atomic
def policy_delete(*, policy: EscalationPolicy, by=None) -> None:
    """Delete a policy no service or integration starts any more (their incidents would page
    nobody). Running escalations keep their snapshot and finish."""
    users = sorted([str(link.service) for link in policy.service_links.select_related("service")]
                   + [str(link.integration) for link in policy.integration_links.select_related("integration")]
                   + [f"{link.incident_type} incidents" for link in policy.type_links.select_related("incident_type")])
    if users:
        raise InUse(f"“{policy.name}” still starts the escalation for {', '.join(users)}: give them another policy first.")
    audit_record(by=by, obj=policy, action="deleted")
    policy.delete()


POLICY_FIELDS = ("name", "description", "repeat", "repeat_after_seconds")


def policy_levels(policy: EscalationPolicy) -> list[LevelSpec]:
    """A policy's levels as `policy_save` takes them: what an edit of its other fields keeps."""
    return [
        LevelSpec(targets=[(t.kind, getattr(t, f"{t.kind}_id")) for t in level.targets.order_by("position", "pk") if not t.inform],
                  delay_seconds=level.delay_seconds, condition=level.condition, severities=[s.key for s in level.severities.all()],
                  mode=level.mode, round_robin_seconds=level.round_robin_seconds,
                  inform=[(t.kind, getattr(t, f"{t.kind}_id")) for t in level.targets.order_by("position", "pk") if t.inform])
        for level in policy.levels.order_by("position", "pk").prefetch_related("severities", "targets")
    ]


def policy_update(*, policy: EscalationPolicy, by=None, **changes) -> EscalationPolicy:
    """Change some of a policy's own fields (name, description, repeat); levels and links stay."""
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise InvalidInput(f"Cannot change {', '.join(sorted(unknown))} here.")
    values = {name: getattr(policy, name) for name in POLICY_FIELDS} | changes
    return policy_save(policy=policy, levels=policy_levels(policy), by=by, **values)
