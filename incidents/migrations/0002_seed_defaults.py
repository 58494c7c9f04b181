from django.db import migrations

from incidents.defaults import seed_defaults


def forwards(apps, schema_editor):
    seed_defaults(apps)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
