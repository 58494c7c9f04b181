"""Paging notifications and stakeholder messages move to the one delivery layer: every
`Notification` row becomes a `delivery.Delivery` row (same public id, times, attempts and
outcome; `paging` for contact methods, `stakeholders` for subscriptions), then the old model
goes. Contact methods learn whether they are failing for good."""

from django.db import migrations, models

KINDS = {"rate_digest": "rate_digest", "subscription_digest": "subscription_digest"}
COPIED = ("public_id", "channel", "target", "message", "dedup_key", "step", "incident_id", "user_id", "status", "due_at",
          "attempts", "max_attempts", "claimed_at", "sent_at", "response_code", "response", "error")


def carry_over(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    Delivery = apps.get_model("delivery", "Delivery")
    made = {}
    for n in Notification.objects.order_by("pk").iterator(chunk_size=1000):
        if n.subscription_id is not None:
            purpose, destination = "stakeholders", n.subscription_id
        elif n.contact_method_id is not None:
            purpose, destination = "paging", n.contact_method_id
        else:  # its destination was deleted: a negative id matches no row and keeps the key unique
            purpose, destination = ("stakeholders" if n.composer == "subscription_digest" else "paging"), -n.pk
        kind = KINDS.get(n.composer) or ("test" if (n.message or {}).get("kind") == "test" else "")
        row = Delivery.objects.create(purpose=purpose, kind=kind, destination_id=destination,
                                      **{f: getattr(n, f) for f in COPIED})
        Delivery.objects.filter(pk=row.pk).update(created_at=n.created_at, updated_at=n.updated_at)
        made[n.pk] = row.pk
    for pk, digest_id in Notification.objects.filter(digest__isnull=False).values_list("pk", "digest_id"):
        Delivery.objects.filter(pk=made[pk]).update(digest_id=made[digest_id])


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("delivery", "0001_delivery"),
    ]

    operations = [
        migrations.AddField(
            model_name="contactmethod", name="failing_since",
            field=models.DateTimeField(blank=True, editable=False, null=True,
                                       help_text="Set when a delivery to it failed for good; cleared by the next delivery that gets through."),
        ),
        migrations.AddField(
            model_name="contactmethod", name="last_error",
            field=models.TextField(blank=True, editable=False, help_text="Why the last delivery failed for good."),
        ),
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.DeleteModel(name="Notification"),
    ]
