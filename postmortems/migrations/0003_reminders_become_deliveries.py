"""Postmortem reminders move to the one delivery layer: every `Reminder` row becomes a
`delivery.Delivery` row of purpose `postmortem_reminders` (destination and user: the recipient;
incident: the postmortem's; same key, kind, status, due time, attempts, claim, error, times),
then `Reminder` and its `EmailAttempt` rows go (the delivery row keeps the attempts and the
last error). Reminders are composed when sent, so pending ones go out as before."""

from django.db import migrations

LABELS = {"due_soon": "Postmortem due soon", "overdue": "Postmortem overdue", "review_invite": "Review meeting invitation",
          "digest": "Overdue action items digest"}
MAX_ATTEMPTS = 5


def carry_over(apps, schema_editor):
    Reminder = apps.get_model("postmortems", "Reminder")
    Delivery = apps.get_model("delivery", "Delivery")
    for r in Reminder.objects.select_related("recipient", "postmortem__incident").order_by("pk").iterator(chunk_size=1000):
        incident = r.postmortem.incident if r.postmortem_id else None
        title = LABELS.get(r.kind, r.kind) + (f": {incident.number}" if incident else "")
        row = Delivery.objects.create(
            purpose="postmortem_reminders", kind=r.kind, channel="email", target=r.recipient.email, destination_id=r.recipient_id,
            user_id=r.recipient_id, dedup_key=r.key, incident_id=incident.pk if incident else None,
            message={"kind": r.kind, "title": title, "body": "", "url": "", "severity": "", "incident_id": None},
            status=r.status, due_at=r.due_at, attempts=r.attempts,
            max_attempts=max(MAX_ATTEMPTS, r.attempts + (1 if r.status in ("pending", "sending") else 0)),
            claimed_at=r.claimed_at, sent_at=r.sent_at, error=r.last_error,
        )
        Delivery.objects.filter(pk=row.pk).update(created_at=r.created_at, updated_at=r.sent_at or r.created_at)


class Migration(migrations.Migration):
    dependencies = [
        ("postmortems", "0002_seed_templates"),
        ("delivery", "0001_delivery"),
    ]

    operations = [
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.DeleteModel(name="EmailAttempt"),
        migrations.DeleteModel(name="Reminder"),
    ]
