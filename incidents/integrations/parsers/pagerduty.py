"""PagerDuty Events API v2 (`POST /v2/enqueue`), alert events.

https://developer.pagerduty.com/docs/events-API-v2/trigger-events/: `routing_key`,
`event_action` (trigger, acknowledge, resolve), `dedup_key` (at most 255 characters),
`payload` (summary <= 1024 characters, source and severity required on trigger; timestamp,
component, group, class, custom_details), `links`, `images`."""

import uuid

from .base import ACKNOWLEDGE, FIRING, OUT_OF_CALENDAR, RESOLVED, AlertIn, Parsed, PayloadError, parse_time

ACTIONS = {"trigger": FIRING, "acknowledge": ACKNOWLEDGE, "resolve": RESOLVED}
SEVERITIES = ("critical", "error", "warning", "info")
MAX_SUMMARY = 1024
MAX_DEDUP_KEY = 255


def routing_key(data) -> str:
    if not isinstance(data, dict):
        raise PayloadError("Event object is invalid", ["The event must be a JSON object."])
    key = data.get("routing_key")
    if not isinstance(key, str) or not key:
        raise PayloadError("Event object is invalid", ["'routing_key' is missing or blank"])
    return key


def parse(data) -> Parsed:
    """One event: a Parsed with one alert, or a PayloadError (PagerDuty refuses the event)."""
    return Parsed(alerts=[_event(data)])


def _event(data) -> AlertIn:
    errors = []
    action = data.get("event_action")
    if not isinstance(action, str) or action not in ACTIONS:
        errors.append("'event_action' must be one of trigger, acknowledge, resolve")
    dedup_key = data.get("dedup_key")
    if dedup_key is not None and (not isinstance(dedup_key, str) or not dedup_key):
        errors.append("'dedup_key' must be a non-empty string")
    elif isinstance(dedup_key, str) and len(dedup_key) > MAX_DEDUP_KEY:
        errors.append(f"'dedup_key' is longer than {MAX_DEDUP_KEY} characters")
    if action in ("acknowledge", "resolve") and not dedup_key:
        errors.append(f"'dedup_key' is required for event_action {action}")
    payload = data.get("payload")
    if action == "trigger":
        errors.extend(_check_payload(payload))
    for name in ("links", "images"):
        value = data.get(name)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            errors.append(f"'{name}' must be a list of objects")
    if errors:
        raise PayloadError("Event object is invalid", errors)
    payload = payload if isinstance(payload, dict) else {}
    if action != "trigger":
        return AlertIn(action=ACTIONS[action], fingerprint=dedup_key, group_value=dedup_key, payload=data)
    dedup_key = dedup_key or uuid.uuid4().hex
    try:
        timestamp = parse_time(payload.get("timestamp"), "payload.timestamp")
    except PayloadError as exc:
        raise PayloadError("Event object is invalid", [f"'{exc.message}'"]) from None
    if timestamp is OUT_OF_CALENDAR:  # optional in the format: the time of receipt stands in
        timestamp = None
    details = payload.get("custom_details")
    links = [{"href": str(link["href"]), "text": str(link.get("text") or link["href"])}
             for link in data.get("links") or [] if link.get("href")]
    links += [{"href": str(img.get("href") or img["src"]), "text": str(img.get("alt") or "Image")}
              for img in data.get("images") or [] if img.get("src")]
    if data.get("client_url"):
        links.append({"href": str(data["client_url"]), "text": str(data.get("client") or "Source")})
    fields = {
        name: str(payload[name]) for name in ("source", "severity", "component", "group", "class") if payload.get(name) is not None
    }
    if isinstance(details, dict):
        fields.update({str(k): str(v) for k, v in details.items() if isinstance(v, (str, int, float, bool))})
    fields["dedup_key"] = dedup_key
    labels = {name: str(payload[name]) for name in ("source", "component", "group", "class") if payload.get(name)}
    return AlertIn(
        action=FIRING,
        fingerprint=dedup_key,
        group_value=dedup_key,
        title=payload["summary"],
        description=_describe(details),
        source_severity=payload["severity"],
        labels=labels,
        annotations={"custom_details": details} if details is not None else {},
        links=links,
        payload=data,
        starts_at=timestamp,
        fields=fields,
        counts_as_occurrence=True,
    )


def _check_payload(payload) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is missing or not an object"]
    errors = []
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors.append("'payload.summary' is missing or blank")
    elif len(summary) > MAX_SUMMARY:
        errors.append(f"'payload.summary' is longer than {MAX_SUMMARY} characters")
    source = payload.get("source")
    if not isinstance(source, str) or not source.strip():
        errors.append("'payload.source' is missing or blank")
    if payload.get("severity") not in SEVERITIES:
        errors.append("'payload.severity' must be one of critical, error, warning, info")
    if payload.get("custom_details") is not None and not isinstance(payload["custom_details"], (dict, str, list)):
        errors.append("'payload.custom_details' must be an object")
    return errors


def _describe(details) -> str:
    if details is None:
        return ""
    if isinstance(details, str):
        return details
    if isinstance(details, dict):
        return "\n".join(f"{k}: {v}" for k, v in details.items())
    return str(details)
