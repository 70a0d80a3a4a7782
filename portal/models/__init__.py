"""The portal's models, split by area; import them from here."""

from .accounts import LoginFailure, PasswordResetToken, Role, User
from .audit import AuditEvent
from .base import Base, UTCDateTime, utcnow
from .membership import (
    OPEN_APPLICATION_STATES,
    AdmissionRule,
    Application,
    ApplicationQuestion,
    ApplicationState,
    ClassMembership,
    Consent,
    CoopSettings,
    Counter,
    Member,
    MemberClass,
    MemberStatus,
    MemberStatusChange,
    QuestionKind,
    Resignation,
    ResignationState,
    VotingMode,
)
from .shares import LEDGER_SIGN, LedgerEntry, LedgerKind, ShareType

__all__ = [
    "LEDGER_SIGN",
    "OPEN_APPLICATION_STATES",
    "AdmissionRule",
    "Application",
    "ApplicationQuestion",
    "ApplicationState",
    "AuditEvent",
    "Base",
    "ClassMembership",
    "Consent",
    "CoopSettings",
    "Counter",
    "LedgerEntry",
    "LedgerKind",
    "LoginFailure",
    "Member",
    "MemberClass",
    "MemberStatus",
    "MemberStatusChange",
    "PasswordResetToken",
    "QuestionKind",
    "Resignation",
    "ResignationState",
    "Role",
    "ShareType",
    "UTCDateTime",
    "User",
    "VotingMode",
    "utcnow",
]
