"""ARQ: "Incident Response Procedures - Phase 16" for ARQ production
(reference/002_6697b95eab484eef.txt).

How the document reads here:
- Severities SEV1 Critical < 5 min, SEV2 High < 15 min, SEV3 Medium < 30 min, SEV4 Low < 2 h
  (the response time is the acknowledge target and the MTTA target). MTTR < 30 min is the
  document's one repair target: set on SEV1 and SEV2.
- Escalation column: SEV1 "Immediate executive notification" (CTO and VP Engineering at once),
  SEV2 "VP Engineering + On-call team", SEV3 "Engineering Lead", SEV4 "Development team". The
  primary on-call is paged for every severity; the secondary on-call ("backup") when the
  primary has not acknowledged within the response time (SEV1 5 min, SEV2 15 min). The
  executives' notifications are not gated on acknowledgement (they fire at once, whatever).
- "Start incident Zoom call if SEV 1-2": a war room started at once for SEV1 and SEV2. The
  pattern below is a placeholder: put your Zoom room's link in the severity.
- Status updates every 15 min for SEV1-2; SEV3-4 get the initial notification and the
  resolution notification.
- RCA meeting within 24 hours of resolution: postmortem due 24 h, required for SEV1 and SEV2.
- "Escalation Email: incidents@company.com": an email stakeholder list for SEV1-2 (off until
  the real address is set).
- Automated alerts (CPU, memory, error rate, p95) carry no severity in the document: no rules.

Notes for the lead (fields another change adds; not encoded here):
- urgency / business hours: "Secondary On-Call: Backup during US business hours" (a layer
  restricted to those hours, set up by the team with the real people); rotation weekly on
  Monday 9 AM US/Eastern (the placeholder schedules' zone is America/New_York). SEV4 "< 2
  hours" is left high urgency (two hours is not a business day).
- postmortem template: the document gives none (the portal's default template is used).
- detection rate: "Automated detection for > 80% of incidents" (the portal's target is the
  METRICS_ALERT_DETECTION_TARGET setting, 0.8 by default).

Encoded since (issue #15): the first notice ("Initial Notification (within 5 min)":
`first_notice_within` 5 min for every severity); the metric targets (MTTK < 5 min, MTBF > 30
days, false-positive rate < 10%); the postmortem meeting window ("RCA Meeting Schedule: Within
24 hours of resolution": `postmortem_meeting_within` 24 h).
- on-call acknowledgement: "Acknowledge PagerDuty within 2 minutes", respond within 5.
"""

from datetime import timedelta

M = timedelta(minutes=1)
H = timedelta(hours=1)
ZOOM = "https://zoom.example.com/arq-incidents/{slug}"  # placeholder: your Zoom room

PRIMARY = ("schedule", "ARQ primary on-call")
SECONDARY = ("schedule", "ARQ secondary on-call")
CTO = ("schedule", "ARQ CTO")
VP = ("schedule", "ARQ VP Engineering")
LEAD = ("schedule", "ARQ Engineering Lead")
DEVELOPERS = ("schedule", "ARQ development team")

PROCEDURE = {
    "name": "arq",
    "team": "ARQ",
    "source": "reference/002_6697b95eab484eef.txt",
    "time_zone": "America/New_York",
    "service": {"name": "ARQ production", "slug": "arq", "team": "ARQ",
                "description": "ARQ production services (Kubernetes, database, load balancers)."},
    "severities": [
        {"key": "SEV1", "label": "Critical", "description": "Complete service outage.",
         "ack_target": 5 * M, "mtta_target": 5 * M, "mttr_target": 30 * M,
         "update_policy": "periodic", "update_cadence": 15 * M, "postmortem_required": True, "postmortem_due": 24 * H,
         "first_notice_within": 5 * M, "postmortem_meeting_within": 24 * H,
         "war_room_pattern": ZOOM, "war_room_auto": True},
        {"key": "SEV2", "label": "High", "description": "Major functionality degraded.",
         "ack_target": 15 * M, "mtta_target": 15 * M, "mttr_target": 30 * M,
         "update_policy": "periodic", "update_cadence": 15 * M, "postmortem_required": True, "postmortem_due": 24 * H,
         "first_notice_within": 5 * M, "postmortem_meeting_within": 24 * H,
         "war_room_pattern": ZOOM, "war_room_auto": True},
        {"key": "SEV3", "label": "Medium", "description": "Partial feature unavailability.",
         "ack_target": 30 * M, "mtta_target": 30 * M, "mttr_target": None,
         "update_policy": "initial_resolution", "update_cadence": None, "postmortem_required": False, "postmortem_due": 24 * H,
         "first_notice_within": 5 * M, "postmortem_meeting_within": 24 * H,
         "war_room_pattern": "", "war_room_auto": False},
        {"key": "SEV4", "label": "Low", "description": "Minor issues.",
         "ack_target": 2 * H, "mtta_target": 2 * H, "mttr_target": None,
         "update_policy": "initial_resolution", "update_cadence": None, "postmortem_required": False, "postmortem_due": 24 * H,
         "first_notice_within": 5 * M, "postmortem_meeting_within": 24 * H,
         "war_room_pattern": "", "war_room_auto": False},
    ],
    "incident_types": [
        {"key": "arq-service-unavailable", "name": "ARQ: Service unavailability", "severity": "SEV1", "position": 20,
         "description": "Service down: check health endpoints, recent deployments; restart, roll back or scale.",
         "required_roles": ["commander"],
         "checklist": [("Check service health endpoints", "tech_lead"), ("Review recent deployments", "tech_lead"),
                       ("Restart, roll back or scale up as needed", "tech_lead")]},
        {"key": "arq-database-performance", "name": "ARQ: Database performance degradation", "severity": "SEV2", "position": 21,
         "checklist": [("Check for long-running queries", "tech_lead"), ("Kill blocking transactions if needed", "tech_lead"),
                       ("Analyse query plans; add missing indexes", "tech_lead")]},
        {"key": "arq-memory", "name": "ARQ: Memory leak / high memory usage", "severity": "SEV3", "position": 22,
         "checklist": [("Identify the memory-consuming processes", "tech_lead"), ("Restart the affected service or pod", "tech_lead"),
                       ("Deploy the patched version if available", "tech_lead"), ("Monitor memory after recovery", "scribe")]},
    ],
    "policies": [
        {"name": "ARQ escalation", "for_service": True,
         "description": "ARQ escalation: primary on-call for every severity, secondary when unacknowledged past the response "
                        "time; SEV1 notifies the CTO and VP Engineering at once, SEV2 VP Engineering, SEV3 the engineering "
                        "lead, SEV4 the development team.",
         "levels": [
             {"after_minutes": 0, "targets": [PRIMARY], "severities": ["SEV1", "SEV2", "SEV3", "SEV4"]},
             {"after_minutes": 0, "targets": [CTO, VP], "severities": ["SEV1"], "condition": "resolved"},
             {"after_minutes": 0, "targets": [VP], "severities": ["SEV2"], "condition": "resolved"},
             {"after_minutes": 0, "targets": [LEAD], "severities": ["SEV3"], "condition": "resolved"},
             {"after_minutes": 0, "targets": [DEVELOPERS], "severities": ["SEV4"], "condition": "resolved"},
             {"after_minutes": 5, "targets": [SECONDARY], "severities": ["SEV1"]},
             {"after_minutes": 15, "targets": [SECONDARY], "severities": ["SEV2"]},
         ]},
    ],
    "templates": [
        {"name": "ARQ: Initial notification", "kind": "initial", "audience": "Slack #incidents",
         "body": "{{ severity }}: {{ title }} ({{ number }})\nWhat: {{ impact }}\nWhen: {{ started }}\nStatus: {{ status }}\n"
                 "{% if war_room %}Zoom: {{ war_room }}\n{% endif %}{{ link }}"},
        {"name": "ARQ: Status update", "kind": "progress", "audience": "Slack #incidents",
         "body": "{{ severity }} update: {{ title }} ({{ number }}), {{ status }}\n"
                 "Investigating / preliminary findings:\n{{ latest_update|default:'(write them)' }}\n"
                 "Estimated time to resolution: (estimate)\n"
                 "{% if cadence_minutes %}Next update in {{ cadence_minutes }} minutes.{% endif %}"},
        {"name": "ARQ: Resolution notification", "kind": "resolution", "audience": "Slack #incidents",
         "body": "Service restored: {{ title }} ({{ number }})\nRoot cause: {{ root_cause|default:'(summary)' }}\n"
                 "Duration of outage: {{ duration_minutes }} minutes\nCustomer impact: {{ impact }}\n"
                 "RCA meeting within 24 hours."},
    ],
    "metric_targets": {"mttk_target": 5 * M, "mtbf_target": 30 * 24 * H, "false_positive_rate_target": 0.1},
    "stakeholders": [
        {"name": "ARQ escalation email", "target": "arq-incidents@example.com", "frequency": "realtime",
         "severities": ["SEV1", "SEV2"]},
    ],
}
