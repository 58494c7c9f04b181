from django.db import migrations

from postmortems.defaults import seed_templates


def forwards(apps, schema_editor):
    seed_templates(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("postmortems", "0001_initial"),
        ("incidents", "0002_seed_defaults"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
