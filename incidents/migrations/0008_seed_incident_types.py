from django.db import migrations

from incidents.defaults import seed_incident_types


def forwards(apps, schema_editor):
    seed_incident_types(apps)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0007_war_room_links_and_incident_types")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
