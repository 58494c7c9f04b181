"""Domain errors. The API maps them to 400/409 with one error format; views show them."""


class DomainError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """Input that breaks a rule (unknown severity, inactive user...), naming the field."""


class InvalidTransition(DomainError):
    """The incident's state does not allow this (acknowledging twice, resolving a resolved one)."""

    status_code = 409
    code = "invalid_transition"


class InUse(DomainError):
    """The thing is still needed by another (a schedule a policy pages, a policy a service starts)."""

    status_code = 409
    code = "in_use"
