from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from incidents.access import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print it. The key is shown only this once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A label to tell tokens apart.")

    def handle(self, *args, username, name, **options):
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive.")
        _token, key = api_token_create(user=user, name=name)
        self.stdout.write(key)
