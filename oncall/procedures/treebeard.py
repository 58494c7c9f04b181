"""TreeBeard: "Incident Response Guide" for TreeBeard production
(reference/001_d78b7430357de961.txt).

How the document reads here:
- Severities Critical (P0) < 5 min, High (P1) < 15 min, Medium (P2) < 1 h, Low (P3) next
  business day; MTTA < 5 min for all; MTTR P0 < 1 h, P1 < 4 h, P2 < 24 h.
- On-call: P0 required (PagerDuty + Slack), P1 notified (Slack + email), P2 informed (Slack),
  P3 not required (email digest): the on-call engineer is paged for P0-P2, not for P3.
- Technical escalation: on-call engineer (0-15 min) -> senior engineer (15-30 min) ->
  engineering manager (30-60 min) -> VP Engineering / CTO (60+ min, if critical). Each step is
  "if no progress": the step fires while the incident is not mitigated (acknowledging it does
  not stop the ladder; mitigating it does).
- Business escalation (customer support lead -> customer success manager -> VP customer
  success -> CEO) has no timings of its own: encoded as "inform" levels on the technical
  ladder's clock (at once, 15, 30 and 60 min, the CEO for Critical only, each while not
  mitigated), for P0 and P1. They are told, never paged: nothing to acknowledge, no phone.
- Updates "Every [X] minutes"; the status update template is "UPDATE [+15min]", so P0 every
  15 min. The document gives no P1 figure: 30 min here, edit it. P2 initial and resolution
  (Slack), P3 resolution only (email digest).
- Postmortem document and meeting within 48 h ("Don't skip post-mortems"): required for
  P0-P2, optional for P3.
- Security breach is P0; restricted to responders and the Security group.

Notes for the lead (fields another change adds; not encoded here):
- mitigation target: 15-30 min (the portal has no MTTM target yet).

Encoded since (issue #15): the first notice ("Initial Response (0-5 minutes)": the initial Slack
message, `first_notice_within` 5 min for P0-P2; P3 posts at resolution only); the metric targets
(MTTI < 15 min, "False Positive Rate: < 5%"); the postmortem meeting window ("Schedule within 48
hours" of resolution: `postmortem_meeting_within` 48 h where a postmortem is required); urgency
(P0 "On-Call: Required" and P1 "Notified" high; P2 "On-Call: Informed" low, the on-call engineer
an inform target; P3 "Next business day", "On-Call: Not required", low); the post-mortem
document as the postmortem template.
"""

from datetime import timedelta

M = timedelta(minutes=1)
H = timedelta(hours=1)

ON_CALL = ("schedule", "TreeBeard on-call engineer")
SENIOR = ("schedule", "TreeBeard senior engineer")
MANAGER = ("schedule", "TreeBeard Engineering Manager")
EXECUTIVE = ("schedule", "TreeBeard VP Engineering / CTO")
SUPPORT_LEAD = ("schedule", "TreeBeard Customer Support Lead")
SUCCESS_MANAGER = ("schedule", "TreeBeard Customer Success Manager")
VP_SUCCESS = ("schedule", "TreeBeard VP Customer Success")
CEO = ("schedule", "TreeBeard CEO")

PROCEDURE = {
    "name": "treebeard",
    "team": "TreeBeard",
    "source": "reference/001_d78b7430357de961.txt",
    "service": {"name": "TreeBeard production", "slug": "treebeard", "team": "TreeBeard",
                "description": "TreeBeard API, database, Redis cache and the Claude API integration."},
    "severities": [
        {"key": "P0", "label": "Critical",
         "description": "Complete service outage, data loss or corruption, security breach, error rate > 5%, API unavailable.",
         "ack_target": 5 * M, "mtta_target": 5 * M, "mttr_target": 1 * H,
         "update_policy": "periodic", "update_cadence": 15 * M, "postmortem_required": True, "postmortem_due": 48 * H,
         "first_notice_within": 5 * M, "postmortem_meeting_within": 48 * H},
        {"key": "P1", "label": "High",
         "description": "Partial degradation, important features unavailable, performance severely degraded, error rate 2-5%.",
         "ack_target": 15 * M, "mtta_target": 5 * M, "mttr_target": 4 * H,
         "update_policy": "periodic", "update_cadence": 30 * M, "postmortem_required": True, "postmortem_due": 48 * H,
         "first_notice_within": 5 * M, "postmortem_meeting_within": 48 * H},
        {"key": "P2", "label": "Medium",
         "urgency": "low",
         "description": "Minor degradation, non-critical features affected, error rate 1-2%.",
         "ack_target": 1 * H, "mtta_target": 5 * M, "mttr_target": 24 * H,
         "update_policy": "initial_resolution", "update_cadence": None, "postmortem_required": True, "postmortem_due": 48 * H,
         "first_notice_within": 5 * M, "postmortem_meeting_within": 48 * H},
        {"key": "P3", "label": "Low",
         "urgency": "low",
         "description": "Cosmetic issues, minimal user impact, error rate < 1%. Next business day.",
         "ack_target": None, "mtta_target": 5 * M, "mttr_target": None,
         "update_policy": "resolution_only", "update_cadence": None, "postmortem_required": False, "postmortem_due": 48 * H},
    ],
    "incident_types": [
        {"key": "treebeard-outage", "name": "TreeBeard: Service outage", "severity": "P0", "position": 20,
         "description": "Database down, all API pods crashed, Redis unavailable.", "required_roles": ["commander"]},
        {"key": "treebeard-data-loss", "name": "TreeBeard: Data loss or corruption", "severity": "P0", "position": 21,
         "postmortem_required": True, "required_roles": ["commander", "tech_lead"]},
        {"key": "treebeard-security", "name": "TreeBeard: Security breach", "severity": "P0", "position": 22,
         "description": "Security breach or critical vulnerability: restricted to the responders and the Security group.",
         "restricted": True, "access_groups": ["Security"], "postmortem_required": True,
         "required_roles": ["commander", "tech_lead", "comms_lead"]},
        {"key": "treebeard-claude-api", "name": "TreeBeard: Claude API issues", "severity": "P1", "position": 23,
         "description": "Claude API rate limited or failing (runbook claude-api-issues)."},
        {"key": "treebeard-latency", "name": "TreeBeard: High latency", "severity": "P1", "position": 24,
         "description": "P95 over 3 s, slow database queries, low cache hit rate."},
    ],
    "policies": [
        {"name": "TreeBeard technical escalation", "for_service": True,
         "description": "Technical escalation of the TreeBeard guide: on-call engineer, then if no progress (not mitigated) "
                        "senior engineer at 15 min, engineering manager at 30 min, VP Engineering / CTO at 60 min if critical.",
         "levels": [
             {"after_minutes": 0, "targets": [ON_CALL], "severities": ["P0", "P1"]},
             {"after_minutes": 15, "targets": [SENIOR], "severities": ["P0", "P1", "P2"], "condition": "mitigated"},
             {"after_minutes": 30, "targets": [MANAGER], "severities": ["P0", "P1", "P2"], "condition": "mitigated"},
             {"after_minutes": 60, "targets": [EXECUTIVE], "severities": ["P0"], "condition": "mitigated"},
             # P2 "On-Call: Informed": told at once, not paged (no acknowledgement asked, no phone ring)
             {"after_minutes": 0, "inform": [ON_CALL], "severities": ["P2"]},
             # the business escalation, told on the same clock (levels 6-9)
             {"after_minutes": 0, "inform": [SUPPORT_LEAD], "severities": ["P0", "P1"]},
             {"after_minutes": 15, "inform": [SUCCESS_MANAGER], "severities": ["P0", "P1"], "condition": "mitigated"},
             {"after_minutes": 30, "inform": [VP_SUCCESS], "severities": ["P0", "P1"], "condition": "mitigated"},
             {"after_minutes": 60, "inform": [CEO], "severities": ["P0"], "condition": "mitigated"},
         ]},
    ],
    # "Post-Mortem Document" of the guide (the meeting within 48 h is the severities' window)
    "postmortem_templates": [
        {"name": "TreeBeard: Post-mortem", "severities": ["P0", "P1", "P2", "P3"],
         "description": "Post-Mortem: [Incident Title], as the TreeBeard guide writes it.",
         "sections": [
             {"key": "facts", "title": "Date, duration, severity, incident commander", "prefill": "summary"},
             {"key": "summary", "title": "Summary", "required": True, "guidance": "Brief overview of what happened."},
             {"key": "timeline", "title": "Timeline", "prefill": "timeline"},
             {"key": "root_cause", "title": "Root cause", "required": True, "guidance": "Detailed explanation."},
             {"key": "impact", "title": "Impact", "group": "Impact", "prefill": "services",
              "guidance": "Users affected (number or percentage), services affected, data loss (yes / no, details)."},
             {"key": "went_well", "title": "What went well", "group": "Lessons"},
             {"key": "improve", "title": "What could be improved", "group": "Lessons"},
             {"key": "action_items", "title": "Action items", "prefill": "action_items",
              "guidance": "Each with an owner and a due date."},
             {"key": "lessons", "title": "Lessons learned", "group": "Lessons", "guidance": "Key takeaways."},
         ]},
    ],
    "templates": [
        {"name": "TreeBeard: Initial alert", "kind": "initial", "audience": "Slack #alerts",
         "body": "🚨 INCIDENT: {{ title }} ({{ number }})\n\nSeverity: {{ severity }}\nStarted: {{ started }}\nStatus: {{ status }}\n\n"
                 "Impact:\n{{ impact }}\n\nIC: {{ commander }}\nResponders: {{ responders }}\n\n"
                 "{% if cadence_minutes %}Updates in thread every {{ cadence_minutes }} minutes.{% endif %}\n{{ link }}"},
        {"name": "TreeBeard: Status update", "kind": "progress", "audience": "Slack #alerts",
         "body": "📊 UPDATE [+{{ duration_minutes }}min]: {{ title }}\n\nStatus: {{ status }}\n\n"
                 "Progress:\n{{ latest_update|default:'(done / in progress / next)' }}\n\n"
                 "Current metrics: error rate, latency P95, affected users.\n\n"
                 "{% if cadence_minutes %}Next update in {{ cadence_minutes }} minutes.{% endif %}"},
        {"name": "TreeBeard: Resolution notice", "kind": "resolution", "audience": "Slack #alerts",
         "body": "✅ RESOLVED: {{ title }}\n\nDuration: {{ duration_minutes }} minutes\n"
                 "Root cause: {{ root_cause|default:'(brief explanation)' }}\nFix: {{ resolution|default:'(what was done)' }}\n\n"
                 "Post-mortem: within 48 hours.\nThanks to {{ responders }} for the quick response!"},
        {"name": "TreeBeard: External communication", "kind": "external", "audience": "Users (status page, email)",
         "body": "TreeBeard incident - {{ started }}\n\n"
                 "{% if resolved %}We experienced {{ title|lower }} from {{ started }} to {{ ended }} ({{ duration_minutes }} minutes)."
                 "{% else %}We are investigating {{ title|lower }} since {{ started }}.{% endif %}\n\nImpact:\n{{ impact }}\n\n"
                 "{% if resolved %}All services are now operating normally. We're monitoring closely to ensure stability.\n\n"
                 "We apologize for any inconvenience. A full post-mortem will be published within 48 hours."
                 "{% else %}We will post another update soon.{% endif %}\n\n- The TreeBeard Team"},
    ],
    "metric_targets": {"mtti_target": 15 * M, "false_positive_rate_target": 0.05},
    "stakeholders": [
        {"name": "TreeBeard low-severity email digest", "target": "treebeard-oncall@example.com", "frequency": "hourly",
         "severities": ["P3"]},
    ],
}
