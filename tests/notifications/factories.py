from delivery.messages import Message
from oncall.notifications import services


def email_method(user, address=None, **kw):
    return services.contact_method_create(user=user, kind="email", target=address or user.email, **kw)


def webhook_method(user, url, kind="webhook", **kw):
    return services.contact_method_create(user=user, kind=kind, target=url, **kw)


def page_message(incident, title=None) -> Message:
    return Message(
        kind="page", title=title or f"{incident.number} {incident.title}", body="You are on call for this incident.",
        url=f"http://testserver{incident.get_absolute_url()}", severity=incident.severity.key, incident_id=incident.pk,
    )


def paging_settings(settings, **values) -> None:
    """Override the paging purpose's delivery settings (max_attempts, lease_seconds,
    retry_base_seconds, retry_max_seconds) for one test."""
    settings.DELIVERY_PURPOSES = {**settings.DELIVERY_PURPOSES, "paging": {**settings.DELIVERY_PURPOSES["paging"], **values}}
