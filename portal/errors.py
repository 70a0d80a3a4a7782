"""Domain errors: raised by services, carrying a message fit to show the user."""

from __future__ import annotations


class PortalError(Exception):
    """A rule of the co-op or the portal refused an action."""

    status = 422

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field  # the input it is about, when there is one
        self.errors: dict[str, str] = {field: message} if field else {}  # by field, for a form


class InvalidInput(PortalError):
    """The input breaks a rule (too short, not allowed, malformed)."""


class InvalidFields(InvalidInput):
    """Several inputs are wrong; ``errors`` maps each field name to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("Please correct the marked answers.")
        self.errors = errors


class InvalidState(PortalError):
    """The object is not in a state that allows the action."""

    status = 409


class NotAllowed(PortalError):
    """The actor may not do this to this object."""

    status = 403


class TooManyAttempts(PortalError):
    """A throttle refused the attempt."""

    status = 429
