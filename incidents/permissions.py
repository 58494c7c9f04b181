"""API permissions through django.contrib.auth: viewers read, responders act, admins configure.

Reading needs the model's `view_` permission; writing the model's add/change/delete
permission, unless the view maps its action to another (`action_permissions`).
"""

from rest_framework.permissions import DjangoModelPermissions


class PortalModelPermissions(DjangoModelPermissions):
    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        perm = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if perm:
            return request.user.has_perm(perm)
        return super().has_permission(request, view)
