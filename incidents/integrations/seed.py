"""Demo integrations and the runbooks of the reference procedures (RB-DB-001, RB-ERR-001,
RB-PERF-001), loaded by `make run` through incidents.demo."""

import datetime

from .models import IntegrationKind, Runbook
from .services import configuration, runbooks

RUNBOOKS = [
    {
        "identifier": "RB-DB-001", "title": "Database outage", "services": ["database"],
        "match_labels": {"alertname": "DatabaseDown"},
        "prerequisites": "- Database admin access\n- SSH access to the database server\n- PagerDuty access",
        "steps": (
            "1. Check database status: `systemctl status postgresql`\n"
            "2. View database logs: `tail -f /var/log/postgresql/postgresql-*.log`\n"
            "3. Check the connection pool: `SELECT count(*) FROM pg_stat_activity;`\n"
            "4. Kill long-running queries if needed: `SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE state = 'active' AND now() - query_start > interval '5 minutes';`\n"
            "5. Restart the database if needed: `systemctl restart postgresql`\n"
            "6. Verify service recovery."
        ),
        "rollback": "N/A (database operations are destructive).", "time_estimate": "5-30 minutes",
    },
    {
        "identifier": "RB-ERR-001", "title": "High error rates", "services": ["api", "web-app"],
        "match_labels": {"alertname": "HighErrorRate"},
        "prerequisites": "- Application deployment access\n- Log access\n- Sentry access",
        "steps": (
            "1. Identify the error spike time from metrics\n2. Check recent deployments in that window\n"
            "3. Review application logs for error patterns\n4. Check Sentry for grouped errors\n"
            "5. If a deployment is suspected: roll back (`kubectl rollout undo deployment/api`) and check the error rate returns to normal\n"
            "6. If one endpoint: find the root cause, deploy a hotfix or disable the endpoint\n"
            "7. If a third-party service: check its status page; use a circuit breaker or fallback"
        ),
        "rollback": "`kubectl rollout undo deployment/api`", "time_estimate": "15-60 minutes",
    },
    {
        "identifier": "RB-PERF-001", "title": "Performance degradation", "services": ["api"],
        "match_labels": {"alertname": "HighLatency"},
        "prerequisites": "- Application monitoring access\n- Database access\n- Kubernetes cluster access",
        "steps": (
            "1. Check system metrics: CPU, memory, disk I/O\n2. Review application latency metrics\n"
            "3. Check database query performance\n4. Identify slow queries from logs\n"
            "5. If resource constrained: scale up (`kubectl scale deployment api --replicas=10`) or add nodes\n"
            "6. If slow queries: add indexes, optimise queries\n7. If a code regression: find the commit; roll back or hotfix"
        ),
        "rollback": "`kubectl rollout undo deployment/api`", "time_estimate": "30-120 minutes",
    },
    {
        "identifier": "RB-MSG-001", "title": "Message delivery rate below target", "services": ["message-delivery"],
        "match_labels": {"alertname": "MessageDeliveryRateCritical"},
        "prerequisites": "- Access to the delivery dashboards\n- Queue consumer deploy rights",
        "steps": (
            "1. Check the delivery success rate by region\n2. Check queue depth and consumer health\n"
            "3. Compare with the last deploy; roll back consumers if they crash-loop\n"
            "4. If test failures persist for more than 5 consecutive runs, escalate to DevOps"
        ),
        "rollback": "Redeploy the previous consumer release.", "time_estimate": "15-45 minutes",
    },
]


def seed_demo(context) -> None:
    svcs, sev = context["services"], context["severities"]
    reviewed = datetime.date(2025, 2, 11)
    for data in RUNBOOKS:
        data = dict(data)
        wanted = [svcs[s] for s in data.pop("services") if s in svcs]
        if not Runbook.objects.filter(identifier=data["identifier"]).exists():
            runbooks.runbook_save(identifier=data.pop("identifier"), services=wanted, last_reviewed=reviewed, **data)
    if "api" not in svcs or "P1" not in sev:
        return
    demo = [
        ("Prometheus (production)", "api", IntegrationKind.ALERTMANAGER, {}),
        ("Datadog monitors", "message-delivery", IntegrationKind.PAGERDUTY, {}),
        ("Nightly backup heartbeat", "database", IntegrationKind.HEARTBEAT, {"heartbeat_interval": datetime.timedelta(hours=24), "heartbeat_grace": datetime.timedelta(hours=1)}),
        ("Status checker webhook", "web-app", IntegrationKind.WEBHOOK, {"field_mapping": {"title": "check.name", "status": "check.state", "fingerprint": "check.id", "link": "check.url"}}),
    ]
    for name, service, kind, config in demo:
        if service not in svcs:
            continue
        # Keys are never shown again: rotate one on its page to send alerts to it.
        configuration.integration_create(name=name, service=svcs[service], kind=kind, default_severity=sev.get("P2"), **config)
