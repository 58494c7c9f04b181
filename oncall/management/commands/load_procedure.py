from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from incidents.exceptions import DomainError
from oncall.procedures import PROCEDURES
from oncall.procedures.loader import load


class Command(BaseCommand):
    help = ("Configure the portal as one of the reference procedures says: severities, incident types, escalation "
            "policies with placeholder schedules, alert rules, communication templates and stakeholder lists. "
            "Safe to run again: a second run changes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help=f"One of: {', '.join(sorted(PROCEDURES))}.")
        parser.add_argument("--list", action="store_true", help="List the procedures that can be loaded.")
        parser.add_argument("--by", metavar="USERNAME", help="Who loads it, for the audit log (default: the system).")

    def handle(self, *args, **options):
        name, by = options.get("name"), options.get("by")
        known = ", ".join(sorted(PROCEDURES))
        if options.get("list"):
            for key in sorted(PROCEDURES):
                proc = PROCEDURES[key]
                scheme = "-".join((proc["severities"][0]["key"], proc["severities"][-1]["key"]))
                self.stdout.write(f"{key:<10} {proc['team']} ({scheme}), {proc['source']}")
            return
        if not name:
            raise CommandError(f"Name a procedure to load: {known} (or --list).")
        proc = PROCEDURES.get(name.strip().lower())
        if proc is None:
            raise CommandError(f"Unknown procedure “{name}”. Known procedures: {known}.")
        user = None
        if by:
            user = get_user_model().objects.filter(username=by, is_active=True).first()
            if user is None:
                raise CommandError(f"No active user “{by}”.")
        try:
            report = load(proc, by=user, write=self.stdout.write)
        except DomainError as exc:
            raise CommandError(f"The {proc['team']} procedure could not be loaded: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Loaded the {proc['team']} procedure: {report.summary()}."))
        self.stdout.write("Next: add the people to the placeholder schedules, set the stakeholder lists' addresses and "
                          "turn them on, and link your services to the policies.")
