"""Generic JSON webhook: one object, a list of objects, or {"alerts": [...]}, read through the
integration's field mapping (dotted paths) for title, status, fingerprint, severity,
description and link. Each item is read on its own: one that cannot be read is refused by
name and the others are recorded."""

from .base import FIRING, RESOLVED, AlertIn, Parsed, PayloadError, Refusal, stable_fingerprint

DEFAULT_RESOLVED = ("resolved", "ok", "closed", "recovered")
_MISSING = object()


def lookup(data, path: str):
    value = data
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdecimal() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def parse(data, *, mapping: dict, resolved_values=()) -> Parsed:
    if isinstance(data, dict) and isinstance(data.get("alerts"), list):
        items = data["alerts"]
    elif isinstance(data, list):
        items = data
    elif isinstance(data, dict):
        items = [data]
    else:
        raise PayloadError("The payload must be a JSON object or a list of objects.")
    if not items:
        raise PayloadError("The payload holds no alerts.")
    resolved = {str(v).lower() for v in (resolved_values or DEFAULT_RESOLVED)}
    parsed = Parsed()
    for i, item in enumerate(items):
        prefix = f"[{i}] " if len(items) > 1 else ""
        if not isinstance(item, dict):
            parsed.refused.append(Refusal(i, [f"{prefix}each alert must be an object."]))
            continue
        values = {name: lookup(item, path) for name, path in mapping.items()}
        title = values.get("title", _MISSING)
        if title is _MISSING or not isinstance(title, (str, int, float)) or not str(title).strip():
            parsed.refused.append(Refusal(i, [f"{prefix}title: no value at {mapping['title']!r}."]))
            continue
        flat = {str(k): str(v) for k, v in item.items() if isinstance(v, (str, int, float, bool))}
        status = values.get("status", _MISSING)
        action = RESOLVED if status is not _MISSING and str(status).lower() in resolved else FIRING
        fingerprint = values.get("fingerprint", _MISSING)
        fingerprint = str(fingerprint) if fingerprint not in (_MISSING, None, "") else stable_fingerprint({"title": str(title)})
        if len(fingerprint) > 255:
            parsed.refused.append(Refusal(i, [f"{prefix}fingerprint: longer than 255 characters."]))
            continue
        link = values.get("link", _MISSING)
        severity = values.get("severity", _MISSING)
        description = values.get("description", _MISSING)
        parsed.alerts.append(AlertIn(
            action=action,
            fingerprint=fingerprint,
            group_value=fingerprint,
            title=str(title),
            description="" if description is _MISSING else str(description),
            source_severity="" if severity is _MISSING else str(severity)[:40],
            labels=flat,
            links=[{"href": str(link), "text": "Source"}] if isinstance(link, str) and link else [],
            payload=item,
            fields={**flat, "fingerprint": fingerprint, "severity": "" if severity is _MISSING else str(severity)},
            counts_as_occurrence=True,
            index=i,
        ))
    return parsed
