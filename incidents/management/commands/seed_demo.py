from django.conf import settings
from django.core.management.base import BaseCommand

from incidents import demo


class Command(BaseCommand):
    help = "Load the demo data set (people, services, incidents...) once. Safe to run again."

    def handle(self, *args, **options):
        if demo.seed(settings.DEMO_PASSWORD, stdout=self.stdout):
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        else:
            self.stdout.write("Demo data already present; nothing to do.")
        self.stdout.write(
            f"Log in at {settings.SITE_URL}/ as 'admin' (administrator) or 'dana' (responder), "
            f"password '{settings.DEMO_PASSWORD}'."
        )
