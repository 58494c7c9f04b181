"""XMTP QA: "Incident response" for XMTP QA infrastructure and testing systems
(reference/000_520585bb8307b4ea.txt).

How the document reads here:
- Severities Critical (P0), High (P1), Medium (P2), Low (P3); "Response Time" 5 min, 15 min,
  1 h, next business day is the acknowledge target (and the MTTA target: the document has no
  other).
- PagerDuty escalation: Critical QA -> DevOps -> Engineering Manager, High QA -> DevOps,
  Medium and Low the QA team. A step moves on when the response time passes unacknowledged
  (Critical: DevOps at 5 min, the manager 5 min later; High: DevOps at 15 min).
- Automatic triggers: "infrastructure_down for 15 minutes -> page_director_engineering" is a
  Critical incident not resolved after 15 min; "delivery_rate < 90% for 10 minutes ->
  page_engineering_manager" is covered by the manager's step at 10 min.
- Low is not paged ("next business day"); see the notes for the lead below.
- Stakeholders: Product Team by email hourly during incidents; Leadership for major incidents
  only (Critical); External Partners when service-affecting (Critical, High). The engineering
  team follows in Slack in real time (the incident channel, not a list here). Status updates
  hourly for Critical and High (the product team's hourly email).
- Alerts: Datadog's "critical" alerts page as Critical.
- Postmortems: the document has a review process and template but no deadline.

Notes for the lead (fields another change adds; not encoded here):
- urgency: Medium "1 hour" could be low urgency too (left high: an hour is not a business day).
- mitigation target: "Mitigation (15-60 minutes)": mitigate within 60 min (the portal has no
  MTTM target yet).

Encoded since (issue #15): the first notice ("Immediate action (0-5 minutes): acknowledge,
post status update in #xmtp-qa-alerts": `first_notice_within` 5 min for Critical); the MTTI
target ("Assessment (5-15 minutes)": `metric_targets` MTTI 15 min). The postmortem meeting
window: none given, so `postmortem_meeting_within` is unset. Urgency: Low (P3), "Next business
day", is low urgency (notified in working hours; its acknowledge clock counts business hours).
"""

from datetime import timedelta

M = timedelta(minutes=1)
H = timedelta(hours=1)

QA = ("schedule", "XMTP QA on-call")
DEVOPS = ("schedule", "XMTP DevOps on-call")
MANAGER = ("schedule", "XMTP Engineering Manager")
DIRECTOR = ("schedule", "XMTP Director of Engineering")

PROCEDURE = {
    "name": "xmtp",
    "team": "XMTP QA",
    "source": "reference/000_520585bb8307b4ea.txt",
    "service": {"name": "XMTP SDK and QA infrastructure", "slug": "xmtp-qa", "team": "XMTP QA",
                "description": "Message delivery SDK, agents and the QA test suites (Railway, Datadog)."},
    "severities": [
        {"key": "P0", "label": "Critical",
         "description": "Production services down (>99% failure rate), multiple test suites failing at once, security incidents.",
         "ack_target": 5 * M, "mtta_target": 5 * M, "mttr_target": None,
         "update_policy": "periodic", "update_cadence": 60 * M, "postmortem_required": True, "postmortem_due": None,
         "first_notice_within": 5 * M},
        {"key": "P1", "label": "High",
         "description": "SLO violations affecting user experience, one test suite failing completely, infrastructure degradation.",
         "ack_target": 15 * M, "mtta_target": 15 * M, "mttr_target": None,
         "update_policy": "periodic", "update_cadence": 60 * M, "postmortem_required": True, "postmortem_due": None},
        {"key": "P2", "label": "Medium",
         "description": "Intermittent test failures, performance regression, non-critical service issues.",
         "ack_target": 1 * H, "mtta_target": 1 * H, "mttr_target": None,
         "update_policy": "initial_resolution", "update_cadence": None, "postmortem_required": False, "postmortem_due": None},
        {"key": "P3", "label": "Low",
         "urgency": "low",
         "description": "Documentation issues, minor configuration problems, enhancement requests. Next business day.",
         "ack_target": None, "mtta_target": None, "mttr_target": None,
         "update_policy": "resolution_only", "update_cadence": None, "postmortem_required": False, "postmortem_due": None},
    ],
    "incident_types": [
        {"key": "xmtp-delivery", "name": "XMTP: Message delivery degraded", "severity": "P0", "position": 20,
         "description": "Production delivery rate below target (critical under 95%)."},
        {"key": "xmtp-test-suite", "name": "XMTP: Test suite failure", "severity": "P1", "position": 21,
         "description": "A test suite fails completely (several at once: Critical)."},
        {"key": "xmtp-performance", "name": "XMTP: Performance degradation", "severity": "P2", "position": 22,
         "description": "Response times over 5000 ms or a performance regression."},
        {"key": "xmtp-agent-downtime", "name": "XMTP: Agent downtime", "severity": "P1", "position": 23,
         "description": "Agents unresponsive (uptime under 99%)."},
        {"key": "xmtp-infrastructure", "name": "XMTP: Infrastructure issue", "severity": "P1", "position": 24,
         "description": "Infrastructure issues, deployment failures, resource constraints (#xmtp-devops)."},
        {"key": "xmtp-security", "name": "XMTP: Security incident", "severity": "P0", "position": 25,
         "description": "Security incidents are Critical; restricted to the responders and the Security group.",
         "restricted": True, "access_groups": ["Security"], "postmortem_required": True, "required_roles": ["commander"]},
    ],
    "policies": [
        {"name": "XMTP escalation", "for_service": True,
         "description": "PagerDuty escalation of the XMTP QA procedure. Critical: QA, DevOps at 5 min, Engineering Manager "
                        "at 10 min, Director of Engineering if still down at 15 min. High: QA, DevOps at 15 min. Medium: QA.",
         "levels": [
             {"after_minutes": 0, "targets": [QA], "severities": ["P0", "P1", "P2"]},
             {"after_minutes": 5, "targets": [DEVOPS], "severities": ["P0"]},
             {"after_minutes": 15, "targets": [DEVOPS], "severities": ["P1"]},
             {"after_minutes": 10, "targets": [MANAGER], "severities": ["P0"]},
             {"after_minutes": 15, "targets": [DIRECTOR], "severities": ["P0"], "condition": "resolved"},
         ]},
    ],
    "integrations": [
        {"name": "XMTP Datadog monitors", "kind": "webhook", "default_severity": "P2",
         "severity_rules": [
             {"match": {"severity": ["critical", "P0"]}, "severity": "P0"},
             {"match": {"severity": ["high", "error", "P1"]}, "severity": "P1"},
             {"match": {"severity": ["warning", "medium", "P2"]}, "severity": "P2"},
             {"match": {"severity": ["low", "info", "P3"]}, "severity": "P3"},
         ]},
    ],
    # "Postmortem template" of the document (its review process has no deadline)
    "postmortem_templates": [
        {"name": "XMTP: Incident postmortem", "severities": ["P0", "P1", "P2", "P3"],
         "description": "Incident Postmortem: [Date] - [Title], as the XMTP QA guide writes it.",
         "sections": [
             {"key": "summary", "title": "Summary", "required": True, "prefill": "summary",
              "guidance": "Brief description of incident impact and resolution."},
             {"key": "timeline", "title": "Timeline", "prefill": "timeline",
              "guidance": "Issue detected, investigation started, root cause identified, resolution implemented (HH:MM)."},
             {"key": "root_cause", "title": "Root cause", "required": True,
              "guidance": "Technical explanation of the underlying issue."},
             {"key": "action_items", "title": "Action items", "prefill": "action_items",
              "guidance": "Immediate fixes, long-term improvements, process updates."},
         ]},
    ],
    "templates": [
        {"name": "XMTP: Status update (#xmtp-qa-alerts)", "kind": "initial", "audience": "Slack #xmtp-qa-alerts",
         "body": "{{ severity }} {{ severity_label }}: {{ title }} ({{ number }})\n"
                 "Status: {{ status }}\nImpact: {{ impact }}\nServices: {{ services }}\n"
                 "Acknowledged in PagerDuty; investigating. {{ link }}"},
        {"name": "XMTP: Product team update (email)", "kind": "progress", "audience": "Email, Product Team (hourly)",
         "body": "{{ number }} {{ title }}: {{ status }}, {{ duration_minutes }} minutes in.\n\n"
                 "Impact: {{ impact }}\n\n{{ latest_update|default:'(what changed since the last hour)' }}\n\nNext update in an hour. {{ link }}"},
    ],
    "metric_targets": {"mtti_target": 15 * M},
    "stakeholders": [
        {"name": "XMTP Product Team (hourly email)", "target": "xmtp-product@example.com", "frequency": "hourly",
         "severities": ["P0", "P1", "P2"]},
        {"name": "XMTP Leadership (major incidents)", "target": "xmtp-leadership@example.com", "frequency": "realtime",
         "severities": ["P0"]},
        {"name": "XMTP External Partners (service affecting)", "target": "xmtp-partners@example.com", "frequency": "realtime",
         "severities": ["P0", "P1"]},
    ],
}
