from django.conf import settings

from .extensions import nav_items


def portal(request):
    user = getattr(request, "user", None)
    items = []
    if user is not None and user.is_authenticated:
        items = [
            n for n in sorted(nav_items.values(), key=lambda n: n.order)
            if n.permission is None or user.has_perm(n.permission)
        ]
    return {"portal_nav": items, "SITE_URL": settings.SITE_URL}
