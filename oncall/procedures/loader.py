"""Load one procedure (a dict of `oncall/procedures/<name>.py`) through the services.

Idempotent: each part is compared with what is there and written only when it differs, so a
second run changes nothing and writes no audit entry. What the loader owns it re-asserts on
every run (the severity scheme, the types, the policies' levels, the alert rules, the
templates); what the team fills in it creates once and then leaves alone (the placeholder
schedules' people, the stakeholder lists' addresses and whether they are on, which services a
policy starts for).

The severity scheme is the portal's one scheme: severities the procedure does not name are
deactivated (kept for past incidents) and moved out of the way of its ranks."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.db import transaction

from incidents import catalog, communications, extensions, incident_types
from incidents.audit import audit_record
from incidents.integrations.models import Integration
from incidents.integrations.services.configuration import integration_create, integration_update
from incidents.models import CommunicationTemplate, IncidentType, Service, Severity
from oncall.notifications.models import StakeholderSubscription
from oncall.notifications.services import subscription_create

from ..models import EscalationPolicy, Schedule, ServicePolicy, TypePolicy
from ..services.policies import LevelSpec, policy_levels, policy_save
from ..services.schedules import schedule_create

MINUTE = 60
PALETTE = ["#b42318", "#dc6803", "#ca8504", "#475467", "#667085", "#98a2b3"]


@dataclass
class Report:
    """What a load did, line by line, for the command's progress output."""

    write: Callable[[str], None] = print
    counts: dict = field(default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0})

    def line(self, what: str, outcome: str, detail: str = "") -> None:
        key = outcome if outcome in self.counts else "updated"
        self.counts[key] += 1
        self.write(f"  {what}: {outcome}{f' ({detail})' if detail else ''}")

    def summary(self) -> str:
        return ", ".join(f"{n} {k}" for k, n in self.counts.items())


def _diff(obj, values: dict) -> dict:
    return {k: v for k, v in values.items() if getattr(obj, k) != v}


# --- severities -------------------------------------------------------------------------


# What a procedure that does not name them gets: no deadlines, high urgency (the scheme is the
# procedure's, not the seeded defaults').
SEVERITY_UNSET = {"first_notice_within": None, "postmortem_meeting_within": None, "urgency": "high"}


def _severities(proc: dict, by, report: Report) -> None:
    report.write("Severities")
    specs = proc["severities"]
    desired = {spec["key"]: rank for rank, spec in enumerate(specs)}
    existing = list(Severity.objects.all())
    for sev in existing:
        if sev.key not in desired and sev.is_active:
            catalog.severity_update(severity=sev, by=by, is_active=False)
            report.line(f"severity {sev.key}", "deactivated", "not in this procedure; past incidents keep it")
    # Ranks are unique: move whatever sits on a rank the procedure wants out of the way first.
    in_the_way = [s for s in existing if (s.key in desired and s.rank != desired[s.key])
                  or (s.key not in desired and s.rank in desired.values())]
    top = max([s.rank for s in existing] + [len(specs)]) + 1
    for sev in in_the_way:
        catalog.severity_update(severity=sev, by=by, rank=top)
        top += 1
    for rank, spec in enumerate(specs):
        values = {"colour": PALETTE[min(rank, len(PALETTE) - 1)], **SEVERITY_UNSET, **spec, "rank": rank, "is_active": True}
        sev = Severity.objects.filter(key=spec["key"]).first()
        if sev is None:
            catalog.severity_create(by=by, **values)
            report.line(f"severity {spec['key']} {spec['label']}", "created")
            continue
        changed = _diff(sev, values)
        if changed:
            catalog.severity_update(severity=sev, by=by, **changed)
        report.line(f"severity {spec['key']} {spec['label']}", "updated" if changed else "unchanged",
                    ", ".join(sorted(changed)) if changed else "")


# --- people placeholders --------------------------------------------------------------------


def _group(name: str, by, report: Report) -> Group:
    group = Group.objects.filter(name=name).first()
    if group is None:
        group = Group.objects.create(name=name)  # a group is only a name: no service of its own
        audit_record(by=by, obj=group, action="added", message="for a loaded procedure")
        report.line(f"group {name}", "created", "add its members")
    return group


def _schedule(name: str, proc: dict, by, report: Report) -> Schedule:
    """A placeholder schedule named after the document's role: created once with no layer (it
    pages nobody until the team adds its people), never touched again."""
    schedule = Schedule.objects.filter(name=name).first()
    if schedule is None:
        schedule = schedule_create(
            name=name, time_zone=proc.get("time_zone", "UTC"), by=by,
            description=f"Placeholder from the {proc['team']} procedure (load_procedure {proc['name']}): "
                        "add a layer with the people who hold this role.")
        report.line(f"schedule {name}", "created", "placeholder: add its people")
    return schedule


def _target(ref: tuple, proc: dict, by, report: Report) -> tuple:
    kind, name = ref
    if kind == "schedule":
        return kind, _schedule(name, proc, by, report).pk
    if kind == "group":
        return kind, _group(name, by, report).pk
    raise ValueError(f"{proc['name']}: unknown target kind {kind!r}")


# --- catalog ------------------------------------------------------------------------------


def _service(proc: dict, by, report: Report) -> Service:
    spec = proc["service"]
    service = Service.objects.filter(slug=spec["slug"]).first()
    if service is None:
        service = catalog.service_create(by=by, **spec)
        report.line(f"service {spec['name']}", "created")
    else:
        report.line(f"service {spec['name']}", "unchanged")  # the team's to edit once it exists
    return service


TYPE_EXTRAS = ("severity", "checklist", "access_groups")


def _types(proc: dict, by, report: Report) -> None:
    report.write("Incident types")
    for spec in proc.get("incident_types", []):
        values = {k: v for k, v in spec.items() if k not in TYPE_EXTRAS}
        values["default_severity"] = Severity.objects.get(key=spec["severity"]) if spec.get("severity") else None
        values.setdefault("restricted", False)
        values.setdefault("public", not (values["restricted"] or values.get("is_drill")))
        checklist = [{"text": text, "owner_role": role, "position": i} for i, (text, role) in enumerate(spec.get("checklist", []))]
        groups = [_group(name, by, report) for name in spec.get("access_groups", [])]
        current = IncidentType.objects.filter(key=spec["key"]).first()
        if current is None:
            incident_types.incident_type_create(by=by, checklist_items=checklist, access_groups=groups, **values)
            report.line(f"type {spec['name']}", "created")
            continue
        changed = _diff(current, values)
        had = [{"text": i.text, "owner_role": i.owner_role, "position": i.position} for i in current.checklist_items.all()]
        extra = {}
        if had != checklist:
            extra["checklist_items"] = checklist
        if set(current.access_groups.all()) != set(groups):
            extra["access_groups"] = groups
        if changed or extra:
            incident_types.incident_type_update(incident_type=current, by=by, **changed, **extra)
        names = sorted(changed) + [k.replace("_items", "") for k in extra]
        report.line(f"type {spec['name']}", "updated" if names else "unchanged", ", ".join(names))


# --- escalation -----------------------------------------------------------------------------


def _levels(spec: dict, proc: dict, by, report: Report) -> list[LevelSpec]:
    return [
        LevelSpec(targets=[_target(t, proc, by, report) for t in level.get("targets", [])],
                  inform=[_target(t, proc, by, report) for t in level.get("inform", [])],
                  delay_seconds=int(level.get("after_minutes", 0) * MINUTE),
                  condition=level.get("condition", "acknowledged"), severities=sorted(level.get("severities", [])))
        for level in spec["levels"]
    ]


def _same_levels(a: list[LevelSpec], b: list[LevelSpec]) -> bool:
    def norm(levels):
        return [(lv.targets, lv.inform, lv.delay_seconds, lv.condition, sorted(lv.severities), lv.mode, lv.round_robin_seconds)
                for lv in levels]
    return norm(a) == norm(b)


def _policies(proc: dict, service: Service, by, report: Report) -> None:
    report.write("Escalation policies")
    for spec in proc.get("policies", []):
        levels = _levels(spec, proc, by, report)
        types = list(IncidentType.objects.filter(key__in=spec.get("incident_types", [])))
        policy = EscalationPolicy.objects.filter(name=spec["name"]).first()
        settings = {"description": spec.get("description", ""), "repeat": spec.get("repeat", 0),
                    "repeat_after_seconds": int(spec.get("repeat_after_minutes", 15) * MINUTE)}
        if policy is None:
            policy_save(name=spec["name"], levels=levels, by=by, services=[service] if spec.get("for_service") else None,
                        incident_types=types, **settings)
            report.line(f"policy {spec['name']}", "created", f"{len(levels)} levels")
            continue
        changed = [k for k, v in settings.items() if getattr(policy, k) != v]
        if not _same_levels(policy_levels(policy), levels):
            changed.append("levels")
        # Links are added, never taken away: the team may have pointed more services at it.
        services = None
        if spec.get("for_service") and not ServicePolicy.objects.filter(service=service).exists():
            services = [link.service for link in policy.service_links.all()] + [service]
            changed.append("service")
        linked = {link.incident_type_id for link in policy.type_links.all()}
        missing = [t for t in types if t.pk not in linked and not TypePolicy.objects.filter(incident_type=t).exists()]
        new_types = None
        if missing:
            new_types = [link.incident_type for link in policy.type_links.all()] + missing
            changed.append("types")
        if changed:
            policy_save(policy=policy, name=spec["name"], levels=levels, by=by, services=services, incident_types=new_types, **settings)
        report.line(f"policy {spec['name']}", "updated" if changed else "unchanged", ", ".join(changed))


# --- alerts, messages, stakeholders ---------------------------------------------------------


def _integrations(proc: dict, service: Service, by, report: Report) -> None:
    specs = proc.get("integrations", [])
    if specs:
        report.write("Alert rules")
    for spec in specs:
        values = {"severity_rules": spec["severity_rules"], "default_severity": Severity.objects.get(key=spec["default_severity"])}
        for name in ("group_by", "field_mapping"):
            if name in spec:
                values[name] = spec[name]
        integration = Integration.objects.filter(name=spec["name"], service=service, archived_at__isnull=True).first()
        if integration is None:
            _integration, key = integration_create(name=spec["name"], service=service, kind=spec["kind"], by=by, **values)
            report.line(f"integration {spec['name']}", "created", f"key {key} (shown this once)")
            continue
        changed = _diff(integration, values)
        if changed:
            integration_update(integration=integration, by=by, **changed)
        report.line(f"integration {spec['name']}", "updated" if changed else "unchanged", ", ".join(sorted(changed)))


def _templates(proc: dict, by, report: Report) -> None:
    specs = proc.get("templates", [])
    if specs:
        report.write("Communication templates")
    for position, spec in enumerate(specs):
        values = {"position": 10 + position, **spec}
        values["incident_type"] = IncidentType.objects.get(key=spec["incident_type"]) if spec.get("incident_type") else None
        template = CommunicationTemplate.objects.filter(name=spec["name"]).first()
        if template is None:
            communications.communication_template_create(by=by, **values)
            report.line(f"template {spec['name']}", "created")
            continue
        changed = _diff(template, values)
        if changed:
            communications.communication_template_update(template=template, by=by, **changed)
        report.line(f"template {spec['name']}", "updated" if changed else "unchanged", ", ".join(sorted(changed)))


def _metric_targets(proc: dict, by, report: Report) -> None:
    """The targets the procedure names (MTTK, MTTI, MTBF, false-positive rate); the others stay."""
    values = proc.get("metric_targets", {})
    if not values:
        return
    report.write("Metric targets")
    changed = _diff(catalog.metric_targets(), values)
    if changed:
        catalog.metric_targets_update(by=by, **changed)
    report.line("metric targets", "updated" if changed else "unchanged", ", ".join(sorted(changed or values)))


def _stakeholders(proc: dict, by, report: Report) -> None:
    specs = proc.get("stakeholders", [])
    if specs:
        report.write("Stakeholder lists")
    for spec in specs:
        if StakeholderSubscription.objects.filter(name=spec["name"]).exists():
            report.line(f"stakeholders {spec['name']}", "unchanged")  # the team's: address and on/off
            continue
        subscription_create(name=spec["name"], kind=spec.get("kind", "email"), target=spec["target"], frequency=spec["frequency"],
                            severities=list(Severity.objects.filter(key__in=spec.get("severities", []))), is_active=False, by=by)
        report.line(f"stakeholders {spec['name']}", "created", "off until you set the real address and turn it on")


@transaction.atomic
def load(proc: dict, *, by=None, write: Callable[[str], None] = print) -> Report:
    """Configure the portal as `proc` says; `by` names who did it in the audit log (None: the
    system, as the seeding and the demo data are)."""
    report = Report(write=write)
    write(f"Loading the {proc['team']} procedure ({proc['source']})")
    _severities(proc, by, report)
    write("Service")
    service = _service(proc, by, report)
    _types(proc, by, report)
    _policies(proc, service, by, report)
    _integrations(proc, service, by, report)
    _templates(proc, by, report)
    _metric_targets(proc, by, report)
    _stakeholders(proc, by, report)
    for name in sorted(extensions.procedure_steps):  # the other apps' parts (postmortem templates...)
        extensions.procedure_steps[name](proc, by=by, report=report)
    return report
