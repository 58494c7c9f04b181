"""Prometheus Alertmanager webhook, payload version 4.

https://prometheus.io/docs/alerting/latest/configuration/#webhook_config: a group
notification carrying `alerts`, each with `status`, `labels`, `annotations`, `startsAt`,
`endsAt`, `generatorURL` and `fingerprint`. An alert's state is its `status`: firing alerts
carry a zero or future `endsAt`, so `endsAt` decides nothing.

Each alert of the group is read on its own: one that cannot be read is refused by name
(`alerts[2].status ...`) and the others are recorded, since Alertmanager re-sends the whole
group after a non-2xx answer and a bad alert would fail the same way for ever. A `startsAt`
outside the calendar becomes the time of receipt (the service's default), an `endsAt` outside
it is ignored."""

from .base import (
    FIRING,
    OUT_OF_CALENDAR,
    RESOLVED,
    AlertIn,
    Parsed,
    PayloadError,
    Refusal,
    parse_time,
    refuse_field,
    stable_fingerprint,
    string_map,
)

STATUSES = {"firing": FIRING, "resolved": RESOLVED}


def parse(data) -> Parsed:
    if not isinstance(data, dict):
        raise PayloadError("The payload must be a JSON object (an Alertmanager webhook notification).")
    version = data.get("version", "4")
    if str(version) != "4":
        raise PayloadError(f"Unsupported payload version {str(version)[:40]!r}: this receiver takes version 4.")
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
    parsed = Parsed()
    for i, alert in enumerate(alerts):
        if not isinstance(alert, dict):
            parsed.refused.append(Refusal(i, [f"alerts[{i}] must be an object."]))
            continue
        try:
            parsed.alerts.append(_alert(alert, group_key, common, i))
        except PayloadError as exc:
            parsed.refused.append(Refusal(i, refuse_field(exc, f"alerts[{i}].")))
    return parsed


def _time(value, name: str):
    parsed = parse_time(value, name)
    return None if parsed is OUT_OF_CALENDAR else parsed


def _alert(alert, group_key: str, common: dict, index: int) -> AlertIn:
    status = alert.get("status")
    if not isinstance(status, str) or status not in STATUSES:
        raise PayloadError(f"status must be 'firing' or 'resolved', not {str(status)[:40]!r}.")
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
        title=title,
        description=annotations.get("description", ""),
        source_severity=labels.get("severity", ""),
        labels=labels,
        annotations=annotations,
        links=links,
        payload={**common, "alert": alert},
        starts_at=_time(alert.get("startsAt"), "startsAt"),
        ends_at=_time(alert.get("endsAt"), "endsAt"),
        fields={**labels, "groupKey": group_key, "fingerprint": fingerprint, "receiver": str(common["receiver"])},
        counts_as_occurrence=False,  # decided by the service: a re-sent firing is no new occurrence
        index=index,
    )
