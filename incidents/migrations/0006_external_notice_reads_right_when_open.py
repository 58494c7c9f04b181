"""The seeded "External notice" said "We experienced ..." for an incident still open, and chose its
resolved text by the resolution summary, which resolving no longer requires. Replace the seeded
text where nobody has edited it."""

from django.db import migrations

OLD = '{{ services }} incident - {{ started }}\n\nWe experienced {{ title|lower }} from {{ started }}{% if ended %} to {{ ended }} ({{ duration_minutes }} minutes){% endif %}.\n\nImpact:\n{{ impact }}\n\n{% if resolution %}Resolution:\n{{ resolution }}\n\nStatus:\nAll services are now operating normally. We are monitoring closely to ensure stability.\n\nWe apologise for any inconvenience. A full post-mortem will be published within 48 hours.{% else %}We are actively working on it and will post another update soon.{% endif %}\n\n- The team'


NEW = '{{ services }} incident - {{ started }}\n\n{% if resolved %}We experienced {{ title|lower }} from {{ started }} to {{ ended }} ({{ duration_minutes }} minutes).{% else %}We are investigating {{ title|lower }}, affecting {{ services }} since {{ started }}.{% endif %}\n\nImpact:\n{{ impact }}\n\n{% if resolved %}{% if resolution %}Resolution:\n{{ resolution }}\n\n{% endif %}Status:\nResolved. All services are now operating normally. We are monitoring closely to ensure stability.\n\nWe apologise for any inconvenience. A full post-mortem will be published within 48 hours.{% else %}Status:\n{{ status }}. We are actively working on it and will post another update soon.{% endif %}\n\n- The team'  # incidents.defaults, as of this migration


def forward(apps, schema_editor):
    apps.get_model("incidents", "CommunicationTemplate").objects.filter(name="External notice", body=OLD).update(body=NEW)


def backward(apps, schema_editor):
    apps.get_model("incidents", "CommunicationTemplate").objects.filter(name="External notice", body=NEW).update(body=OLD)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0005_event_deliveries")]
    operations = [migrations.RunPython(forward, backward)]
