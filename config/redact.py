"""Secrets that travel in URL paths (integration keys, calendar, acknowledge, confirmation and
unsubscribe tokens) are replaced by "[redacted]" in every log line: Django's loggers (through a
filter on the handlers in settings.LOGGING, runserver's access log included) and gunicorn's
access log (`GunicornLogger`, set as logger_class in gunicorn.conf.py)."""

import logging
import re

from gunicorn.glogging import Logger as _GunicornBaseLogger

MASK = "[redacted]"
_SECRET = r"[^/\s?#\"']+"
PATTERNS = [
    re.compile(rf"(/api/v1/integrations/){_SECRET}(?=/(?:alertmanager|webhook|heartbeat)\b)"),
    re.compile(rf"(/calendar/(?:schedule|user)/){_SECRET}?(?=\.ics)"),
    re.compile(rf"(/ack/){_SECRET}"),
    re.compile(rf"(/status/(?:subscribe/confirm|unsubscribe)/){_SECRET}"),
    re.compile(r"([?&](?:token|key|routing_key)=)[^&\s#\"']+"),
]


def redact(text: str) -> str:
    for pattern in PATTERNS:
        text = pattern.sub(rf"\g<1>{MASK}", text)
    return text


def _redact_value(value):
    return redact(value) if isinstance(value, str) else value


class RedactSecretsFilter(logging.Filter):
    """Rewrites the message and its arguments; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, dict):
            record.args = {k: _redact_value(v) for k, v in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_redact_value(v) for v in record.args)
        return True


class GunicornLogger(_GunicornBaseLogger):
    """gunicorn's logger with every access-log atom (request line, path, query, headers) redacted."""

    def atoms(self, resp, req, environ, request_time):
        return {k: _redact_value(v) for k, v in super().atoms(resp, req, environ, request_time).items()}
