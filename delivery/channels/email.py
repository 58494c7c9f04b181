"""Email through Django's email backend (SMTP from EMAIL_URL): a text and an HTML part from the
message's template triple (`delivery.emails`), the message's extra headers and attachments.

`build` makes the whole MIME message before anything is sent: a one-line, bounded subject (no
CR, LF or other control character can reach a header), bodies without NUL or lone surrogates.
What still cannot be built (a template that does not render, an address the mail library
refuses) is a permanent failure, never a retry loop."""

import smtplib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email

from .. import emails, safetext
from ..messages import Message
from .base import Channel, ChannelError, InvalidTarget, Receipt, register


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

    def recipients(self) -> list[str]:
        return [a.strip() for a in self.destination.target.split(",") if a.strip()]

    def build(self, message: Message) -> EmailMultiAlternatives:
        """The email as it will be sent; ChannelError(permanent) when it cannot be built."""
        recipients = self.recipients()
        if not recipients:
            raise ChannelError("No email address.", permanent=True)
        try:
            rendered = emails.render(message.template, {**message.context, "message": message})
            headers = {"X-Portal-Notification": safetext.line(self.destination.message_id, 200),
                       "Auto-Submitted": "auto-generated", **message.headers}
            email = EmailMultiAlternatives(rendered.subject, rendered.text, settings.DEFAULT_FROM_EMAIL, recipients,
                                           headers=headers)
            email.attach_alternative(rendered.html, "text/html")
            for filename, content, mimetype in message.attachments:
                email.attach(filename, content, mimetype)
            email.message()  # the MIME message, headers and all: refusals surface here, not mid-send
        except Exception as exc:
            raise ChannelError(f"Could not build the email: {type(exc).__name__}: {exc}"[:500], permanent=True) from exc
        return email

    def send(self, message: Message) -> Receipt:
        email = self.build(message)
        email.connection = get_connection(timeout=settings.EMAIL_TIMEOUT)
        try:
            sent = email.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise ChannelError(f"Recipients refused: {exc.recipients}", permanent=True) from exc
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:  # 5xx: the server will not take this message
            raise ChannelError(f"{type(exc).__name__}: {exc.smtp_code} {exc.smtp_error!r}", permanent=exc.smtp_code >= 500) from exc
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"{type(exc).__name__}: {exc}") from exc
        if not sent:
            raise ChannelError("The email backend sent nothing.")
        return Receipt(None, f"accepted for {len(email.to)} recipient(s)")
