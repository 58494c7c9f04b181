"""Prometheus Alertmanager webhook, payload version 4.

https://prometheus.io/docs/alerting/latest/configuration/#webhook_config: a group
notification carrying `alerts`, each with `status`, `labels`, `annotations`, `startsAt`,
`endsAt`, `generatorURL` and `fingerprint`. An alert's state is its `status`: firing alerts
carry a zero or future `endsAt`, so `endsAt` decides nothing."""

from .base import FIRING, RESOLVED, AlertIn, PayloadError, parse_time, stable_fingerprint, string_map

STATUSES = {"firing": FIRING, "resolved": RESOLVED}


def parse(data) -> list[AlertIn]:
    if not isinstance(data, dict):
        raise PayloadError("The payload must be a JSON object (an Alertmanager webhook notification).")
    version = data.get("version", "4")
    if str(version) != "4":
        raise PayloadError(f"Unsupported payload version {version!r}: this receiver takes version 4.")
    alerts = data.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError("alerts: a list of alerts is required.")
    group_key = data.get("groupKey")
    if not isinstance(group_key, str) or not group_key:
        raise PayloadError("groupKey: a non-empty string is required.")
    external_url = data.get("externalURL") or ""
    common = {
        "receiver": data.get("receiver", ""),
        "groupKey": group_key,
        "externalURL": external_url,
        "groupLabels": data.get("groupLabels") or {},
    }
    parsed, errors = [], []
    for i, alert in enumerate(alerts):
        try:
            parsed.append(_alert(alert, group_key, common))
        except PayloadError as exc:
            errors.extend(f"alerts[{i}].{e}" for e in exc.errors)
    if errors:
        raise PayloadError(errors[0], errors)
    return parsed


def _alert(alert, group_key: str, common: dict) -> AlertIn:
    if not isinstance(alert, dict):
        raise PayloadError("each alert must be an object.")
    status = alert.get("status")
    if status not in STATUSES:
        raise PayloadError(f"status must be 'firing' or 'resolved', not {status!r}.")
    labels = string_map(alert.get("labels"), "labels")
    if not labels:
        raise PayloadError("labels: at least one label is required.")
    annotations = string_map(alert.get("annotations"), "annotations")
    fingerprint = alert.get("fingerprint") or stable_fingerprint(labels)
    if not isinstance(fingerprint, str) or len(fingerprint) > 255:
        raise PayloadError("fingerprint must be a string of at most 255 characters.")
    links = []
    generator = alert.get("generatorURL") or ""
    if isinstance(generator, str) and generator:
        links.append({"href": generator, "text": "Source (generatorURL)"})
    if annotations.get("runbook_url"):
        links.append({"href": annotations["runbook_url"], "text": "Runbook"})
    if annotations.get("dashboard_url"):
        links.append({"href": annotations["dashboard_url"], "text": "Dashboard"})
    title = annotations.get("summary") or labels.get("alertname", "Alert")
    if "alertname" in labels and annotations.get("summary"):
        title = f"{labels['alertname']}: {annotations['summary']}"
    return AlertIn(
        action=STATUSES[status],
        fingerprint=fingerprint,
        group_value=group_key,
        title=title[:1024],
        description=annotations.get("description", ""),
        source_severity=labels.get("severity", ""),
        labels=labels,
        annotations=annotations,
        links=links,
        payload={**common, "alert": alert},
        starts_at=parse_time(alert.get("startsAt"), "startsAt"),
        ends_at=parse_time(alert.get("endsAt"), "endsAt"),
        fields={**labels, "groupKey": group_key, "fingerprint": fingerprint, "receiver": str(common["receiver"])},
        counts_as_occurrence=False,  # decided by the service: a re-sent firing is no new occurrence
    )
