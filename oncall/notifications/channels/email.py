"""Email through Django's email backend (SMTP from EMAIL_URL): a text and an HTML part."""

import smtplib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.template.loader import render_to_string

from ..messages import Message
from .base import Channel, ChannelError, Delivery, InvalidTarget, register


@register
class EmailChannel(Channel):
    kind = "email"
    label = "Email"

    @classmethod
    def clean_target(cls, target: str) -> str:
        """One address, or several separated by commas (an email list)."""
        addresses = [a.strip() for a in target.split(",") if a.strip()]
        if not addresses:
            raise InvalidTarget("Enter an email address.")
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError as exc:
                raise InvalidTarget(f"{address!r} is not a valid email address.") from exc
        return ", ".join(addresses)

    def send(self, message: Message) -> Delivery:
        recipients = [a.strip() for a in self.destination.target.split(",") if a.strip()]
        if not recipients:
            raise ChannelError("No email address.", permanent=True)
        prefix = f"[{message.severity}] " if message.severity else ""
        subject = f"{prefix}{message.title}".replace("\n", " ")[:200]
        context = {"message": message, "site_url": settings.SITE_URL}
        text = render_to_string("notifications/email/message.txt", context)
        html = render_to_string("notifications/email/message.html", context)
        email = EmailMultiAlternatives(
            subject, text, settings.DEFAULT_FROM_EMAIL, recipients,
            headers={"X-Portal-Notification": self.destination.message_id, "Auto-Submitted": "auto-generated"},
            connection=get_connection(timeout=settings.EMAIL_TIMEOUT),
        )
        email.attach_alternative(html, "text/html")
        try:
            sent = email.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise ChannelError(f"Recipients refused: {exc.recipients}", permanent=True) from exc
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"{type(exc).__name__}: {exc}") from exc
        if not sent:
            raise ChannelError("The email backend sent nothing.")
        return Delivery(None, f"accepted for {len(recipients)} recipient(s)")
