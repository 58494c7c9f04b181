"""The three built-in groups, kept in step with every app's permissions after each migrate.

Viewer: every `view_` permission of the portal's apps. Responder: Viewer plus what each app
lists in its AppConfig's `responder_permissions`. Admin: every permission of the portal's apps,
and managing people (not deleting them).
"""

from django.apps import apps
from django.contrib.auth.models import Group, Permission

VIEWER, RESPONDER, ADMIN = "Viewer", "Responder", "Admin"
PEOPLE_PERMISSIONS = ("view_user", "add_user", "change_user", "view_group")
# Login records (django-axes): admins read them and unlock someone by deleting the attempt.
# Given to named people only, never to a built-in group: reading restricted incidents from outside.
INDIVIDUAL_ONLY = ("read_restricted_incident",)
ADMIN_LOGIN_AUDIT = ("view_accessattempt", "delete_accessattempt", "view_accesslog", "view_accessfailurelog")


def portal_app_configs():
    return [c for c in apps.get_app_configs() if getattr(c, "portal_app", False)]


def ensure_groups(**_kwargs) -> None:
    configs = portal_app_configs()
    labels = [c.label for c in configs]
    portal = Permission.objects.filter(content_type__app_label__in=labels).exclude(codename__in=INDIVIDUAL_ONLY)
    view = portal.filter(codename__startswith="view_")
    responder_codes = [p for c in configs for p in getattr(c, "responder_permissions", ())]
    responder = list(view)
    for dotted in responder_codes:
        app_label, codename = dotted.split(".", 1)
        responder.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
    # Admins also provision people (invite, change, deactivate; never delete: see oncall.services.people)
    # and read login records (django-axes), unlocking someone by deleting the attempt.
    people = Permission.objects.filter(content_type__app_label="auth", codename__in=PEOPLE_PERMISSIONS)
    login_audit = Permission.objects.filter(content_type__app_label="axes", codename__in=ADMIN_LOGIN_AUDIT)
    for name, perms in ((VIEWER, list(view)), (RESPONDER, responder), (ADMIN, [*portal, *people, *login_audit])):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(perms)
