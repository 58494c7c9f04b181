"""Status page subscriber messages move to the one delivery layer: every `Notification` row
becomes a `delivery.Delivery` row of purpose `statuspage` (destination: the subscriber; same
key, state, attempts, error, times; the incident for an incident update), then the old model
goes. Emails were stored rendered: they keep their subject, text and HTML (template
`statuspage_message`, which sends them as they are); webhooks keep their Statuspage document."""

from urllib.parse import urlsplit

from django.db import migrations

CHANNELS = {"email": "email", "webhook": "statuspage_webhook"}
OLD_MAX_ATTEMPTS = 6


def _target(sub) -> str:
    if sub.kind == "email":
        return sub.email
    parts = urlsplit(sub.endpoint)
    return f"{parts.scheme}://{parts.hostname or ''}/…"


def _message(n) -> dict:
    kind = "confirm" if n.key == "confirm" else "update"
    if n.subscriber.kind == "email":
        return {"kind": kind, "title": n.subject, "body": n.text, "template": "statuspage_message", "context": {"html": n.html}}
    return {"kind": kind, "title": n.key, "body": "", "data": n.payload or {}}


def _incident_id(key: str, StatusUpdate):
    if key.startswith("update:") and key[7:].isdigit():
        return StatusUpdate.objects.filter(pk=int(key[7:])).values_list("incident_id", flat=True).first()
    return None


def carry_over(apps, schema_editor):
    Notification = apps.get_model("statuspage", "Notification")
    StatusUpdate = apps.get_model("incidents", "StatusUpdate")
    Delivery = apps.get_model("delivery", "Delivery")
    for n in Notification.objects.select_related("subscriber").order_by("pk").iterator(chunk_size=1000):
        row = Delivery.objects.create(
            purpose="statuspage", kind="confirm" if n.key == "confirm" else "", channel=CHANNELS[n.subscriber.kind],
            destination_id=n.subscriber_id, target=_target(n.subscriber)[:2000], message=_message(n), dedup_key=n.key,
            incident_id=_incident_id(n.key, StatusUpdate), status=n.state, due_at=n.next_attempt_at, attempts=n.attempts,
            max_attempts=max(OLD_MAX_ATTEMPTS, n.attempts + 1) if n.state in ("pending", "sending") else max(OLD_MAX_ATTEMPTS, n.attempts),
            claimed_at=n.next_attempt_at if n.state == "sending" else None, sent_at=n.sent_at, error=n.last_error,
        )
        Delivery.objects.filter(pk=row.pk).update(created_at=n.created_at, updated_at=n.sent_at or n.created_at)


class Migration(migrations.Migration):
    dependencies = [
        ("statuspage", "0003_page_time_zone_checked"),
        ("incidents", "0001_initial"),
        ("delivery", "0001_delivery"),
    ]

    operations = [
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.DeleteModel(name="Notification"),
    ]
