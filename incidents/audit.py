"""Who changed the configuration, and when.

Entries go to Django's admin log (LogEntry), so the staff pages, the API and the admin write
one history: each object's "History" page in the admin, the admin's "Recent actions", and the
lists the staff pages show. Incidents keep their own timeline; this is for the settings that
decide who gets paged (policies, schedules, integrations...)."""

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry

READ = 4  # a read worth recording (a restricted incident from outside its responders)
ACTIONS = {"added": ADDITION, "changed": CHANGE, "deleted": DELETION, "read": READ}


def audit_record(*, by, obj, action: str, message: str = "") -> None:
    """Record `action` ("added", "changed", "deleted" (before the delete) or "read") on `obj` by `by`.
    System work (demo data, seeding) has nobody to name and records nothing."""
    if by is None or not getattr(by, "is_authenticated", False):
        return
    LogEntry.objects.log_actions(user_id=by.pk, queryset=[obj], action_flag=ACTIONS[action], change_message=message,
                                 single_object=True)


def audit_history(obj, limit: int = 10):
    """The latest entries for `obj`, newest first, with their users."""
    from django.contrib.contenttypes.models import ContentType

    return (LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False), object_id=str(obj.pk))
            .select_related("user").order_by("-action_time")[:limit])
