"""Alloy: "Incident Response Procedures" for the Alloy platform
(reference/004_662dbf12ac9f9c9c.txt).

How the document reads here:
- Severities P0 < 15 min, P1 < 1 h, P2 < 4 h, P3 < 48 h (response time: the acknowledge and
  MTTA target).
- Escalation paths: primary on-call (first 15 min), secondary on-call after 15 min with no
  response, Engineering Lead after 30 min for P0/P1, CTO after 1 hour for unresolved P0. "No
  response" is not acknowledged; the CTO step waits for resolution. P3 (< 48 h) is not paged.
- Communication frequency: P0 every 30 min, P1 every hour, P2 initial + resolution, P3
  resolution only.
- PIR within 48 hours of resolution for every incident: postmortem required for P0-P2, due
  48 h (P3, a cosmetic issue or enhancement, optional).
- "Zoom: incident war room for major incidents": a war room started at once for P0 (the
  pattern is a placeholder: put your Zoom room's link in the severity).
- Prometheus alert rules: DatabaseDown pages P0 as a database outage, HighErrorRate P0 as
  high error rates; other "critical" P0, "warning" (HighLatency, HighMemoryUsage) P1.
- Scenarios (database outage, high error rates, security breach, performance degradation,
  authentication failures, cache failures) are incident types with their immediate actions.
- Message formats: none in general (the portal's defaults apply); the Security Breach
  playbook's two notices are templates of that type (below).
- Customer notifications go to support@alloyapp.io: an email stakeholder list for P0/P1, off
  until its real address is set.

Notes for the lead (fields another change adds; not encoded here):
- urgency / business hours: none stated; P3 "< 48 hours" could be low urgency (left high).
- first notice: none stated (P2 "Initial update + resolution notification" gives no time), so
  `first_notice_within` stays unset until the team names one.

Encoded since (issue #15): the postmortem meeting window ("Schedule a PIR meeting within 48
hours of incident resolution": `postmortem_meeting_within` 48 h where a postmortem is
required); the Security Breach playbook's notices ("Notify stakeholders (legal, PR, customers
if needed)", "Notify affected users") as templates of the security-breach type, offered instead
of the generic ones for those incidents; the PIR agenda as the postmortem template. No MTTK /
MTTI targets are stated.
"""

from datetime import timedelta

M = timedelta(minutes=1)
H = timedelta(hours=1)
ZOOM = "https://zoom.example.com/alloy-war-room/{slug}"  # placeholder: your Zoom room

PRIMARY = ("schedule", "Alloy primary on-call")
SECONDARY = ("schedule", "Alloy secondary on-call")
LEAD = ("schedule", "Alloy Engineering Lead")
CTO = ("schedule", "Alloy CTO")

PROCEDURE = {
    "name": "alloy",
    "team": "Alloy",
    "source": "reference/004_662dbf12ac9f9c9c.txt",
    "service": {"name": "Alloy platform", "slug": "alloy", "team": "Alloy",
                "description": "Alloy API (alloy-api on Kubernetes), PostgreSQL, Redis, authentication."},
    "severities": [
        {"key": "P0", "label": "Critical", "description": "Critical system outage affecting all users: complete downtime, data loss.",
         "ack_target": 15 * M, "mtta_target": 15 * M, "mttr_target": None,
         "update_policy": "periodic", "update_cadence": 30 * M, "postmortem_required": True, "postmortem_due": 48 * H,
         "postmortem_meeting_within": 48 * H,
         "war_room_pattern": ZOOM, "war_room_auto": True},
        {"key": "P1", "label": "High", "description": "Major feature degradation affecting many users: API errors, slow performance.",
         "ack_target": 1 * H, "mtta_target": 1 * H, "mttr_target": None,
         "update_policy": "periodic", "update_cadence": 60 * M, "postmortem_required": True, "postmortem_due": 48 * H,
         "postmortem_meeting_within": 48 * H,
         "war_room_pattern": "", "war_room_auto": False},
        {"key": "P2", "label": "Medium", "description": "Minor issue affecting a subset of users: endpoint errors, intermittent issues.",
         "ack_target": 4 * H, "mtta_target": 4 * H, "mttr_target": None,
         "update_policy": "initial_resolution", "update_cadence": None, "postmortem_required": True, "postmortem_due": 48 * H,
         "postmortem_meeting_within": 48 * H,
         "war_room_pattern": "", "war_room_auto": False},
        {"key": "P3", "label": "Low", "description": "Cosmetic issue or enhancement request: UI bugs, documentation issues.",
         "ack_target": 48 * H, "mtta_target": 48 * H, "mttr_target": None,
         "update_policy": "resolution_only", "update_cadence": None, "postmortem_required": False, "postmortem_due": None,
         "war_room_pattern": "", "war_room_auto": False},
    ],
    "incident_types": [
        {"key": "alloy-database-outage", "name": "Alloy: Database outage", "severity": "P0", "position": 20,
         "description": "503s on all endpoints, database connection timeouts (runbook RB-DB-001).",
         "checklist": [("Check the database status page", "tech_lead"), ("Verify the database service is running", "tech_lead"),
                       ("Check the connection pool metrics", "tech_lead"), ("Review recent database changes", "tech_lead")]},
        {"key": "alloy-error-rate", "name": "Alloy: High error rates", "severity": "P1", "position": 21,
         "description": "Error rate more than 5% above baseline (runbook RB-ERR-001).",
         "checklist": [("Identify error patterns (type, endpoint, user)", "tech_lead"), ("Check recent deployments", "tech_lead"),
                       ("Verify third-party service status", "tech_lead")]},
        {"key": "alloy-security-breach", "name": "Alloy: Security breach", "severity": "P0", "position": 22,
         "description": "Unauthorised access or exfiltration: restricted to the responders, Security and Legal.",
         "restricted": True, "access_groups": ["Security", "Legal"], "postmortem_required": True,
         "required_roles": ["commander", "tech_lead", "comms_lead"],
         "checklist": [("Activate the security incident response team", "commander"), ("Isolate affected systems", "tech_lead"),
                       ("Preserve evidence (logs, memory dumps)", "tech_lead"),
                       ("Notify stakeholders (legal, PR, customers if needed)", "comms_lead")]},
        {"key": "alloy-performance", "name": "Alloy: Performance degradation", "severity": "P1", "position": 23,
         "description": "Response times over twice the baseline (runbook RB-PERF-001)."},
        {"key": "alloy-authentication", "name": "Alloy: Authentication failures", "severity": "P1", "position": 24,
         "description": "Users unable to log in, JWT validation failures (AUTH_001 spike)."},
        {"key": "alloy-cache", "name": "Alloy: Cache failures", "severity": "P2", "position": 25,
         "description": "Redis down, cache miss rate over 50%."},
    ],
    "policies": [
        {"name": "Alloy escalation", "for_service": True,
         "description": "Alloy escalation paths: primary on-call, secondary after 15 min with no response, Engineering Lead "
                        "after 30 min for P0/P1, CTO after 1 hour for unresolved P0.",
         "levels": [
             {"after_minutes": 0, "targets": [PRIMARY], "severities": ["P0", "P1", "P2"]},
             {"after_minutes": 15, "targets": [SECONDARY], "severities": ["P0", "P1", "P2"]},
             {"after_minutes": 30, "targets": [LEAD], "severities": ["P0", "P1"]},
             {"after_minutes": 60, "targets": [CTO], "severities": ["P0"], "condition": "resolved"},
         ]},
        {"name": "Alloy security breach: Security and Legal", "incident_types": ["alloy-security-breach"],
         "description": "Security breach: activate the security incident response team and Legal.",
         "levels": [{"after_minutes": 0, "targets": [("group", "Security"), ("group", "Legal")], "condition": "resolved"}]},
    ],
    "integrations": [
        {"name": "Alloy Prometheus Alertmanager", "kind": "alertmanager", "default_severity": "P2",
         "group_by": ["alertname"],
         "severity_rules": [
             {"match": {"alertname": "DatabaseDown"}, "severity": "P0", "type": "alloy-database-outage"},
             {"match": {"alertname": "HighErrorRate"}, "severity": "P0", "type": "alloy-error-rate"},
             {"match": {"alertname": "HighLatency"}, "severity": "P1", "type": "alloy-performance"},
             {"match": {"severity": "critical"}, "severity": "P0"},
             {"match": {"severity": "warning"}, "severity": "P1"},
         ]},
    ],
    "templates": [
        {"name": "Alloy security breach: Legal and PR notice", "kind": "initial", "incident_type": "alloy-security-breach",
         "audience": "Email, Legal and PR (restricted)",
         "body": "Security incident {{ number }} ({{ severity }}): {{ title }}\n\n"
                 "Status: {{ status }}. The security incident response team is active; affected systems are being "
                 "isolated and evidence preserved.\nImpact so far: {{ impact }}\n\n"
                 "Do not forward. Legal decides whether and when customers are told. {{ link }}"},
        {"name": "Alloy security breach: Notice to affected users", "kind": "resolution", "incident_type": "alloy-security-breach",
         "audience": "Email, affected users (after Legal's review)",
         "body": "We are writing to tell you about a security incident that affected your account.\n\n"
                 "What happened: {{ impact }}\nWhat we did: {{ resolution|default:'(the vulnerability was patched and "
                 "affected credentials reset)' }}\n\nPlease reset your password and review recent activity."},
    ],
    # the Post-Incident Review's agenda and output
    "postmortem_templates": [
        {"name": "Alloy: Post-incident review", "severities": ["P0", "P1", "P2", "P3"],
         "description": "The PIR agenda of the Alloy procedures; its output is this written post-mortem.",
         "sections": [
             {"key": "timeline", "title": "Timeline of events", "prefill": "timeline"},
             {"key": "root_cause", "title": "Root cause analysis", "required": True},
             {"key": "went_well", "title": "What went well", "group": "Review"},
             {"key": "improve", "title": "What could be improved", "group": "Review"},
             {"key": "action_items", "title": "Action items and owners", "prefill": "action_items",
              "guidance": "Tracked here with every other action item."},
             {"key": "prevention", "title": "Preventive measures", "guidance": "Including updates to runbooks and documentation."},
             {"key": "customers", "title": "Customer communication", "guidance": "The customer notice, if customers were affected."},
         ]},
    ],
    "stakeholders": [
        {"name": "Alloy customer notifications", "target": "alloy-support@example.com", "frequency": "realtime",
         "severities": ["P0", "P1"]},
    ],
}
