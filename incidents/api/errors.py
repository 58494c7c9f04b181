"""One JSON error format for the whole API:

    {"status": 400, "code": "invalid", "message": "title: This field is required.",
     "errors": {"title": ["This field is required."]}}
"""

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..exceptions import DomainError


def _flatten(detail, prefix="") -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, "" if name == "non_field_errors" else name) if isinstance(value, dict) else {name: [str(v) for v in (value if isinstance(value, list) else [value])]})
        return out
    if isinstance(detail, list):
        return {prefix or "non_field_errors": [str(d) for d in detail]}
    return {prefix or "non_field_errors": [str(detail)]}


def error_response(status_code: int, code: str, message: str, errors: dict | None = None, headers=None) -> Response:
    body = {"status": status_code, "code": code, "message": message}
    if errors:
        body["errors"] = errors
    return Response(body, status=status_code, headers=headers)


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        return error_response(413, "too_large", "The request body is larger than the server accepts.")
    if isinstance(exc, DomainError):
        errors = {exc.field: [exc.message]} if exc.field else None
        message = f"{exc.field}: {exc.message}" if exc.field else exc.message
        return error_response(exc.status_code, exc.code, message, errors)
    if isinstance(exc, ProtectedError):  # a delete that would take something still in use with it
        used_by = sorted({f"{obj._meta.verbose_name} “{obj}”" for obj in exc.protected_objects})
        return error_response(409, "in_use", f"Still in use by {', '.join(used_by[:5])}" + (" and more" if len(used_by) > 5 else "")
                              + ": change or remove those first.")
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        first_field, first_msgs = next(iter(errors.items()))
        message = first_msgs[0] if first_field == "non_field_errors" else f"{first_field}: {first_msgs[0]}"
        return error_response(status.HTTP_400_BAD_REQUEST, "invalid", message, errors)
    code = getattr(exc, "default_code", "error")
    detail = getattr(exc, "detail", str(exc))
    headers = {k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")}
    return error_response(response.status_code, str(getattr(detail, "code", code)), str(detail), headers=headers)
