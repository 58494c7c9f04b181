"""Matchbook: "Incident Response Guide" for Matchbook (reference/003_363623b2a09202e4.txt).

How the document reads here:
- Severities P1 Critical (response 15 min, acknowledge within 5), P2 High (30 min response,
  acknowledge within 15), P3 Medium (2 h), P4 Low (next business day). P3/P4 are acknowledged
  during business hours: not paged.
- P1: acknowledge within 5 min; "Assemble Team (within 10 minutes): page Incident Commander,
  page Technical Lead, notify Communications Lead": paged at once whatever the acknowledgement.
- Escalation matrix: "P1 not acknowledged in 15 min -> Engineering Manager"; "P1 not
  mitigated in 1 hour -> VP Engineering"; "Data breach suspected -> Security Team + Legal"
  (a restricted type whose own policy pages both groups); "Financial impact > $X -> Business
  Operations" (a type whose own policy pages them).
- Updates "every [15/30] minutes": P1 every 15 min ("Update every 15 minutes"), P2 every 30;
  P3/P4 initial and resolution.
- Postmortem: P1 within 48 h, P2 within 1 week, P3/P4 optional.
- Roles: Incident Commander, Technical Lead, Communications Lead, Scribe (the portal's roles).

Notes for the lead (fields another change adds; not encoded here):
- first notice: P1 "Post initial status to status page" after assessing, with no minute figure:
  `first_notice_within` stays unset until the team names one.

Checked since (issue #15): no MTTK / MTTI targets are given (P1 "Assemble Team (within 10
minutes)" is not one) and no postmortem meeting window beyond the due times (48 h, 1 week), so
`metric_targets` and `postmortem_meeting_within` are left unset. Encoded: urgency ("P3/P4:
Acknowledge during business hours": low urgency) and the post-mortem template.
"""

from datetime import timedelta

M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)

ON_CALL = ("schedule", "Matchbook on-call engineer")
COMMANDER = ("schedule", "Matchbook Incident Commander")
TECH_LEAD = ("schedule", "Matchbook Technical Lead")
COMMS_LEAD = ("schedule", "Matchbook Communications Lead")
MANAGER = ("schedule", "Matchbook Engineering Manager")
VP = ("schedule", "Matchbook VP Engineering")
BIZ_OPS = ("schedule", "Matchbook Business Operations")

PROCEDURE = {
    "name": "matchbook",
    "team": "Matchbook",
    "source": "reference/003_363623b2a09202e4.txt",
    "service": {"name": "Matchbook trading", "slug": "matchbook", "team": "Matchbook",
                "description": "Order matching and trading (Kubernetes, Solana RPC)."},
    "severities": [
        {"key": "P1", "label": "Critical", "description": "Complete outage, data loss risk: all trading halted, data corruption.",
         "ack_target": 5 * M, "mtta_target": 5 * M, "mttr_target": None,
         "update_policy": "periodic", "update_cadence": 15 * M, "postmortem_required": True, "postmortem_due": 48 * H},
        {"key": "P2", "label": "High", "description": "Major feature unavailable: order matching delayed > 1 min.",
         "ack_target": 15 * M, "mtta_target": 15 * M, "mttr_target": None,
         "update_policy": "periodic", "update_cadence": 30 * M, "postmortem_required": True, "postmortem_due": 7 * D},
        {"key": "P3", "label": "Medium", "description": "Minor feature degraded: increased latency, partial data.",
         "urgency": "low",
         "ack_target": 2 * H, "mtta_target": None, "mttr_target": None,
         "update_policy": "initial_resolution", "update_cadence": None, "postmortem_required": False, "postmortem_due": None},
        {"key": "P4", "label": "Low", "description": "Cosmetic or minor issue: UI glitch, non-critical bug. Next business day.",
         "urgency": "low",
         "ack_target": None, "mtta_target": None, "mttr_target": None,
         "update_policy": "initial_resolution", "update_cadence": None, "postmortem_required": False, "postmortem_due": None},
    ],
    "incident_types": [
        {"key": "matchbook-trading-halted", "name": "Matchbook: Trading halted", "severity": "P1", "position": 20,
         "required_roles": ["commander", "tech_lead", "comms_lead"]},
        {"key": "matchbook-matching-delayed", "name": "Matchbook: Order matching delayed", "severity": "P2", "position": 21},
        {"key": "matchbook-data-breach", "name": "Matchbook: Data breach suspected", "severity": "P1", "position": 22,
         "description": "Escalated to the Security Team and Legal; restricted to the responders and those groups.",
         "restricted": True, "access_groups": ["Security", "Legal"], "postmortem_required": True,
         "required_roles": ["commander", "tech_lead", "comms_lead"]},
        {"key": "matchbook-financial-impact", "name": "Matchbook: Financial impact", "severity": "P1", "position": 23,
         "description": "Financial impact over the agreed threshold: escalated to Business Operations."},
    ],
    "policies": [
        {"name": "Matchbook escalation", "for_service": True,
         "description": "Matchbook: on-call engineer for P1 and P2; P1 pages the Incident Commander and Technical Lead and "
                        "notifies the Communications Lead at once, the Engineering Manager if not acknowledged in 15 min "
                        "and the VP Engineering if not mitigated in 1 hour.",
         "levels": [
             {"after_minutes": 0, "targets": [ON_CALL], "severities": ["P1", "P2"]},
             {"after_minutes": 0, "targets": [COMMANDER, TECH_LEAD, COMMS_LEAD], "severities": ["P1"], "condition": "resolved"},
             {"after_minutes": 15, "targets": [MANAGER], "severities": ["P1"]},
             {"after_minutes": 60, "targets": [VP], "severities": ["P1"], "condition": "mitigated"},
         ]},
        {"name": "Matchbook data breach: Security and Legal", "incident_types": ["matchbook-data-breach"],
         "description": "Data breach suspected: the Security Team and Legal, until resolved.",
         "levels": [{"after_minutes": 0, "targets": [("group", "Security"), ("group", "Legal")], "condition": "resolved"}]},
        {"name": "Matchbook financial impact: Business Operations", "incident_types": ["matchbook-financial-impact"],
         "description": "Financial impact: Business Operations, until resolved.",
         "levels": [{"after_minutes": 0, "targets": [BIZ_OPS], "condition": "resolved"}]},
    ],
    # "Post-Mortem Template" of the guide (P1 within 48 hours, P2 within a week: the severities' due)
    "postmortem_templates": [
        {"name": "Matchbook: Incident post-mortem", "severities": ["P1", "P2", "P3", "P4"],
         "description": "Incident Post-Mortem: [Title], as the Matchbook guide writes it.",
         "sections": [
             {"key": "summary", "title": "Summary", "required": True, "prefill": "summary",
              "guidance": "Date, duration, severity, and the user / business impact."},
             {"key": "timeline", "title": "Timeline (UTC)", "prefill": "timeline",
              "guidance": "Alert fired, IC assigned, root cause identified, fix deployed, incident resolved."},
             {"key": "root_cause", "title": "Root cause", "required": True,
              "guidance": "Detailed explanation of what caused the incident."},
             {"key": "resolution", "title": "Resolution", "required": True, "guidance": "What was done to resolve the incident."},
             {"key": "impact", "title": "Impact", "prefill": "services",
              "guidance": "Users affected, revenue impact, data loss (yes / no)."},
             {"key": "went_well", "title": "What went well", "group": "Lessons learned"},
             {"key": "improve", "title": "What could be improved", "group": "Lessons learned"},
             {"key": "action_items", "title": "Action items", "prefill": "action_items",
              "guidance": "Action, owner, due date."},
         ]},
    ],
    "templates": [
        {"name": "Matchbook: Initial status update", "kind": "initial", "audience": "Slack #incidents / status page",
         "body": "🔴 INCIDENT: {{ title }}\n\nStatus: Investigating\nImpact: {{ impact }}\nStarted: {{ started }}\n\n"
                 "We are aware of the issue and actively investigating.\n"
                 "{% if cadence_minutes %}Updates will be posted every {{ cadence_minutes }} minutes.{% endif %}"},
        {"name": "Matchbook: Progress update", "kind": "progress", "audience": "Slack #incidents / status page",
         "body": "🟡 UPDATE: {{ title }}\n\nStatus: {{ status }}\nImpact: {{ impact }}\nDuration: {{ duration_minutes }} minutes\n\n"
                 "{{ latest_update|default:'(what we have learned; what we are doing)' }}\n\n"
                 "{% if cadence_minutes %}Next update in {{ cadence_minutes }} minutes.{% endif %}"},
        {"name": "Matchbook: Resolution update", "kind": "resolution", "audience": "Slack #incidents / status page",
         "body": "🟢 RESOLVED: {{ title }}\n\nStatus: Resolved\nDuration: {{ duration_minutes }} minutes\nImpact: {{ impact }}\n\n"
                 "Root cause: {{ root_cause|default:'(brief explanation)' }}\nResolution: {{ resolution|default:'(what was done)' }}\n\n"
                 "A full post-mortem will be conducted."},
    ],
}
