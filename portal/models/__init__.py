"""The portal's models, split by area; import them from here."""

from .accounts import LoginFailure, PasswordResetToken, Role, User
from .audit import AuditEvent
from .base import Base, UTCDateTime, utcnow

__all__ = [
    "AuditEvent",
    "Base",
    "LoginFailure",
    "PasswordResetToken",
    "Role",
    "UTCDateTime",
    "User",
    "utcnow",
]
