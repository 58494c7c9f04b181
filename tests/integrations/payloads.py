"""Real payload shapes, as the senders produce them."""

import copy

ZERO = "0001-01-01T00:00:00Z"


def am_alert(name="DatabaseDown", status="firing", fingerprint="a1b2c3d4e5f60718", instance="db-1:9187", severity="critical", **labels):
    return {
        "status": status,
        "labels": {"alertname": name, "instance": instance, "job": "postgres", "severity": severity, **labels},
        "annotations": {"summary": "Database is down", "description": "PostgreSQL database is not responding",
                        "runbook_url": "https://runbooks.example.com/RB-DB-001"},
        "startsAt": "2026-11-25T08:59:30.123456789Z",
        "endsAt": ZERO if status == "firing" else "2026-11-25T09:04:30.5Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up%7Bjob%3D%22postgres%22%7D+%3D%3D+0&g0.tab=1",
        "fingerprint": fingerprint,
    }


def am_payload(*alerts, group_key='{}:{alertname="DatabaseDown"}', status=None):
    alerts = list(alerts) or [am_alert()]
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": status or ("firing" if any(a["status"] == "firing" for a in alerts) else "resolved"),
        "receiver": "incident-portal",
        "groupLabels": {"alertname": alerts[0]["labels"]["alertname"]},
        "commonLabels": copy.deepcopy(alerts[0]["labels"]),
        "commonAnnotations": {"summary": "Database is down"},
        "externalURL": "http://alertmanager:9093",
        "alerts": alerts,
    }


def pd_trigger(routing_key, dedup_key=None, summary="Example alert on host1.example.com", severity="critical", **extra):
    event = {
        "payload": {
            "summary": summary,
            "timestamp": "2015-07-17T08:42:58.315+0000",
            "source": "monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats-prod-003",
            "severity": severity,
            "component": "postgres",
            "group": "prod-datapipe",
            "class": "deploy",
            "custom_details": {"ping time": "1500ms", "load avg": 0.75},
        },
        "routing_key": routing_key,
        "images": [{"src": "https://www.pagerduty.com/wp-content/uploads/2016/05/pagerduty-logo-green.png",
                    "href": "https://example.com/", "alt": "Example text"}],
        "links": [{"href": "https://example.com/", "text": "Link text"}],
        "event_action": "trigger",
        "client": "Sample Monitoring Service",
        "client_url": "https://monitoring.example.com",
        **extra,
    }
    if dedup_key:
        event["dedup_key"] = dedup_key
    return event
