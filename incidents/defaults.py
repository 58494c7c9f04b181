"""The defaults every fresh database starts with, taken from the reference procedures
(DESIGN.md, "Defaults that come from reference/"). All of it is editable in the admin.

`seed_defaults(apps)` works on historical models so the data migration can call it."""

from datetime import timedelta

M = timedelta(minutes=1)
H = timedelta(hours=1)

CHECKLIST_DURING = [
    "Acknowledge the alert within the target",
    "Post the initial message in the incident channel",
    "Assess and confirm severity",
    "Assign responders and the communications lead",
    "Maintain the timeline",
    "Post regular updates at the severity's cadence",
    "Coordinate resolution",
    "Verify the fix",
    "Post the resolution message",
    "Update the status page",
]
CHECKLIST_AFTER = [
    "Schedule the postmortem",
    "Create follow-up tickets for action items",
    "Update runbooks",
]

SEVERITIES = [
    {
        "key": "P0", "label": "Critical", "rank": 0, "colour": "#b42318",
        "description": "Complete outage, data loss or corruption, security breach.",
        "ack_target": 5 * M, "update_policy": "periodic", "update_cadence": 30 * M,
        "mtta_target": 5 * M, "mttr_target": 1 * H, "postmortem_required": True, "postmortem_due": 48 * H,
        "first_notice_within": 5 * M, "postmortem_meeting_within": 48 * H,
        "checklist": CHECKLIST_DURING + CHECKLIST_AFTER,
    },
    {
        "key": "P1", "label": "High", "rank": 1, "colour": "#dc6803",
        "description": "Major feature degraded, many users affected.",
        "ack_target": 15 * M, "update_policy": "periodic", "update_cadence": 60 * M,
        "mtta_target": 5 * M, "mttr_target": 4 * H, "postmortem_required": True, "postmortem_due": 48 * H,
        "first_notice_within": 5 * M, "postmortem_meeting_within": 48 * H,
        "checklist": CHECKLIST_DURING + CHECKLIST_AFTER,
    },
    {
        "key": "P2", "label": "Medium", "rank": 2, "colour": "#ca8504",
        "description": "A subset of users or a non-critical feature affected.",
        "ack_target": 60 * M, "update_policy": "initial_resolution", "update_cadence": None,
        "mtta_target": 5 * M, "mttr_target": 24 * H, "postmortem_required": False, "postmortem_due": 7 * 24 * H,
        "first_notice_within": 60 * M,  # "initial + resolution": the initial notice within the hour
        "checklist": ["Acknowledge within the hour", "Assess severity", "Post the initial update", "Post the resolution update"],
    },
    {
        "key": "P3", "label": "Low", "rank": 3, "colour": "#475467",
        "description": "Cosmetic issue, minimal impact. Handled as a ticket.",
        "ack_target": None, "update_policy": "resolution_only", "update_cadence": None,
        "mtta_target": None, "mttr_target": None, "postmortem_required": False, "postmortem_due": None,
        "urgency": "low",  # "next business day": notified in working hours, never at 3 a.m.
        "checklist": ["Open a ticket", "Post the resolution update"],
    },
]

TEMPLATES = [
    {
        "name": "Initial alert", "kind": "initial", "audience": "Slack", "position": 0,
        "body": (
            "🚨 INCIDENT: {{ title }} ({{ number }})\n\n"
            "Severity: {{ severity }} {{ severity_label }}\n"
            "Started: {{ started }}\n"
            "Status: {{ status }}\n\n"
            "Impact:\n{{ impact }}\n\n"
            "Services: {{ services }}\n"
            "IC: {{ commander }}\n"
            "Responders: {{ responders }}\n\n"
            "{% if cadence_minutes %}Updates in thread every {{ cadence_minutes }} minutes.{% else %}Updates in thread as things change.{% endif %}\n"
            "{{ link }}"
        ),
    },
    {
        "name": "Progress update", "kind": "progress", "audience": "Slack", "position": 1,
        "body": (
            "📊 UPDATE [+{{ duration_minutes }} min]: {{ title }} ({{ number }})\n\n"
            "Status: {{ status }}\n\n"
            "Progress:\n{{ latest_update|default:'(write what was done, what is in progress, what is next)' }}\n\n"
            "{% if cadence_minutes %}Next update in {{ cadence_minutes }} minutes.{% endif %}\n"
            "{{ link }}"
        ),
    },
    {
        "name": "Resolution notice", "kind": "resolution", "audience": "Slack", "position": 2,
        "body": (
            "✅ RESOLVED: {{ title }} ({{ number }})\n\n"
            "Duration: {{ duration_minutes }} minutes\n"
            "Root cause: {{ root_cause|default:'(under investigation)' }}\n"
            "Fix: {{ resolution|default:'(describe the fix)' }}\n\n"
            "IC: {{ commander }}\n"
            "Thanks to {{ responders }} for the quick response!\n"
            "{{ link }}"
        ),
    },
    {
        "name": "External notice", "kind": "external", "audience": "Customers (email / status page)", "position": 3,
        "body": (
            "{{ services }} incident - {{ started }}\n\n"
            "{% if resolved %}We experienced {{ title|lower }} from {{ started }} to {{ ended }} ({{ duration_minutes }} minutes).{% else %}"
            "We are investigating {{ title|lower }}, affecting {{ services }} since {{ started }}.{% endif %}\n\n"
            "Impact:\n{{ impact }}\n\n"
            "{% if resolved %}{% if resolution %}Resolution:\n{{ resolution }}\n\n{% endif %}"
            "Status:\nResolved. All services are now operating normally. We are monitoring closely to ensure stability.\n\n"
            "We apologise for any inconvenience. A full post-mortem will be published within 48 hours.{% else %}"
            "Status:\n{{ status }}. We are actively working on it and will post another update soon.{% endif %}\n\n"
            "- The team"
        ),
    },
]


# The metrics page's targets beside the severities' own (from the procedures: MTTK < 5 min,
# identify within 15 min, MTBF > 30 days; at most one incident in ten a false alarm).
METRIC_TARGETS = {"mttk_target": 5 * M, "mtti_target": 15 * M, "mtbf_target": 30 * 24 * H, "false_positive_rate_target": 0.1}


def seed_defaults(apps) -> None:
    Severity = apps.get_model("incidents", "Severity")
    ChecklistItem = apps.get_model("incidents", "SeverityChecklistItem")
    Template = apps.get_model("incidents", "CommunicationTemplate")
    known = {f.name for f in Severity._meta.get_fields()}  # a migration's model may predate a field
    for spec in SEVERITIES:
        spec = dict(spec)
        checklist = spec.pop("checklist")
        spec = {name: value for name, value in spec.items() if name in known}
        severity, created = Severity.objects.get_or_create(key=spec["key"], defaults=spec)
        if created:
            ChecklistItem.objects.bulk_create(
                ChecklistItem(severity=severity, text=text, position=i) for i, text in enumerate(checklist)
            )
    for spec in TEMPLATES:
        Template.objects.get_or_create(name=spec["name"], defaults=spec)
    try:
        targets = apps.get_model("incidents", "MetricTargets")
    except LookupError:  # a migration before the model's (0012 seeds it then)
        return
    targets.objects.get_or_create(pk=1, defaults=METRIC_TARGETS)


# The procedures' incident types (all five handle security breaches on a path of their own;
# Matchbook: "Data breach suspected -> Security Team + Legal"; Alloy's "Security Breach"
# playbook). Seeded by incidents/migrations/0008; the extra escalation policy of a type is set
# on the policy (oncall), since it names people.
INCIDENT_TYPES = [
    {"key": "service-outage", "name": "Service outage", "severity": "P0", "position": 0,
     "description": "A service is down or unusable for its users.", "required_roles": ["commander"],
     "checklist": []},
    {"key": "performance-degradation", "name": "Performance degradation", "severity": "P2", "position": 1,
     "description": "Slow or partly failing, but working.", "required_roles": [], "checklist": []},
    {"key": "security", "name": "Security incident / suspected data breach", "severity": "P0", "position": 2,
     "description": "Suspected or confirmed unauthorised access, or a data breach. Pages Security and Legal "
                    "through the policy linked to this type.",
     "public": False, "postmortem_required": True, "required_roles": ["commander", "tech_lead", "comms_lead"],
     "checklist": [
         ("Activate the security response team", "commander"),
         ("Isolate the affected systems", "tech_lead"),
         ("Preserve evidence (logs, snapshots, access records)", "tech_lead"),
         ("Notify Legal and PR", "comms_lead"),
         ("Reset exposed credentials and keys", "tech_lead"),
         ("Notify affected users and customers as Legal advises", "comms_lead"),
     ]},
    {"key": "data-loss", "name": "Data loss", "severity": "P0", "position": 3,
     "description": "Data lost or corrupted.", "postmortem_required": True, "required_roles": ["commander", "tech_lead"],
     "checklist": [
         ("Stop further writes to the affected data", "tech_lead"),
         ("Preserve backups and snapshots before any restore", "tech_lead"),
         ("Assess what was lost and whose", "tech_lead"),
         ("Notify affected customers", "comms_lead"),
     ]},
    {"key": "third-party-outage", "name": "Third-party outage", "severity": "P2", "position": 4,
     "description": "A provider we depend on is failing.", "required_roles": [],
     "checklist": [("Open a ticket with the provider and link it", "tech_lead"), ("Watch the provider's status page", "scribe")]},
    {"key": "drill", "name": "Drill", "severity": "P2", "position": 5,
     "description": "A game day or fire drill: pages for real, every message marked [DRILL], never public, "
                    "left out of the metrics.",
     "public": False, "is_drill": True, "required_roles": ["commander"],
     "checklist": [("Record what was learnt", "scribe"), ("File action items for what did not work", "commander")]},
]


def seed_incident_types(apps) -> None:
    """Idempotent: a type that exists (edited or not) is left alone."""
    Severity = apps.get_model("incidents", "Severity")
    IncidentType = apps.get_model("incidents", "IncidentType")
    ChecklistItem = apps.get_model("incidents", "IncidentTypeChecklistItem")
    for spec in INCIDENT_TYPES:
        spec = dict(spec)
        checklist = spec.pop("checklist")
        spec["default_severity"] = Severity.objects.filter(key=spec.pop("severity")).first()
        if IncidentType.objects.filter(name=spec["name"]).exclude(key=spec["key"]).exists():
            continue
        incident_type, created = IncidentType.objects.get_or_create(key=spec["key"], defaults=spec)
        if created:
            ChecklistItem.objects.bulk_create(
                ChecklistItem(incident_type=incident_type, text=text, owner_role=role, position=i)
                for i, (text, role) in enumerate(checklist)
            )


# Matchbook: "Data breach suspected -> Security Team + Legal". A suspected breach is restricted
# to its responders and these groups (incidents/migrations/0010; editable like the rest).
RESTRICTED_TYPES = {"security": ("Security", "Legal")}


def restrict_incident_types(apps) -> None:
    """Idempotent: restrict the seeded breach type and name its groups (created when missing)."""
    Group = apps.get_model("auth", "Group")
    IncidentType = apps.get_model("incidents", "IncidentType")
    for key, group_names in RESTRICTED_TYPES.items():
        incident_type = IncidentType.objects.filter(key=key).first()
        if incident_type is None:
            continue
        IncidentType.objects.filter(pk=incident_type.pk).update(restricted=True, public=False)
        incident_type.access_groups.add(*(Group.objects.get_or_create(name=name)[0] for name in group_names))
