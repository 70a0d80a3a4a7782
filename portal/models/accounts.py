"""Accounts: the people who sign in, and the records that keep sign-in safe."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, enum_column, utcnow
from .states import Labelled


class Role(Labelled):
    MEMBER = "member", "Member"
    STAFF = "staff", "Staff"
    ADMIN = "admin", "Admin"


class User(Base):
    """Someone who can sign in: an applicant or member, staff, or an admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        enum_column(Role, "role"), default=Role.MEMBER, index=True
    )  # the staff, found without reading every account
    # The office the co-op gives a staff member ("Secretary"), named instead of the role.
    title: Mapped[str | None] = mapped_column(String(60))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pending_email: Mapped[str | None] = mapped_column(String(254))  # awaiting verification
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The sign-in before this one: what is new for the user since their last visit is newer
    # (kept at sign-in, a POST, so that reading a page never writes).
    previous_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Two-factor sign-in (TOTP): the shared secret, encrypted with a key derived from the
    # app's secret key (tokens.encrypt), so a copy of the database alone gives no codes; it
    # is set when set-up starts and counts once ``two_factor_enabled_at`` is set.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    two_factor_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last time step whose code was accepted: a code at or before it is refused, so a
    # code cannot be used twice (RFC 6238 §5.2).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    reset_token: Mapped[PasswordResetToken | None] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    sessions: Mapped[list[UserSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    # Flask-Login's user protocol. Whether a cookie still signs someone in is decided by
    # its session record (UserSession), never by the user alone.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.STAFF, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def role_title(self) -> str:
        """What this person does here: their title if they have one, else their role."""
        return self.title or self.role.label

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def two_factor_enabled(self) -> bool:
        return self.two_factor_enabled_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class LoginFailure(Base):
    """A failed sign-in, kept for the per-account throttle (by e-mail, known or not)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_email_at", "email", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PasswordResetToken(Base):
    """A single-use password reset token; only its SHA-256 is stored.

    An account has at most one: asking again replaces it, so one link works at a time.
    """

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, unique=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="reset_token")


class RecoveryCode(Base):
    """A single-use recovery code for two-factor sign-in; only its keyed digest is stored.

    Ten are made at once and shown once; making new ones deletes the old.
    """

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="recovery_codes")


class UserSession(Base):
    """One sign-in: the session cookie names it by a random token, stored here as a digest.

    A request is signed in only while its record exists, is not revoked and has not run
    past the idle or the absolute limit; signing out revokes it, so a copy of the cookie
    stops working too. ``last_seen_at`` moves only on requests that may write (reading a
    page writes nothing); the cookie keeps its own last-seen time for the idle limit.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the password (or a two-factor code) was last typed in this session: sign-in or
    # the confirm prompt.
    reauthenticated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    ip: Mapped[str | None] = mapped_column(String(45))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="sessions")

    def is_open(
        self,
        now: datetime,
        *,
        idle: timedelta,
        absolute: timedelta,
        seen_by_cookie: datetime | None = None,
    ) -> bool:
        """Not revoked, younger than ``absolute``, and seen within ``idle`` (by the server,
        or by the cookie that carries it, which reading pages keeps fresh)."""
        seen = max(self.last_seen_at, seen_by_cookie or self.last_seen_at)
        return self.revoked_at is None and now - self.created_at <= absolute and now - seen <= idle

    def recently_authenticated(self, now: datetime, within: timedelta) -> bool:
        """The password was typed in this session within ``within``."""
        return now - self.reauthenticated_at <= within


class AccountMailKind(Labelled):
    """The mails anyone can make the portal send to an address, each limited per hour."""

    RESET = "reset", "Password reset"
    SIGN_UP = "sign_up", "Sign-up"
    UNLOCK = "unlock", "Sign-in unlock"


class AccountMail(Base):
    """An account mail sent at someone's request to an address, kept to limit how many
    one address receives in an hour. The address is kept only as a keyed digest."""

    __tablename__ = "account_mails"
    __table_args__ = (Index("ix_account_mails_address_kind_at", "address_digest", "kind", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address_digest: Mapped[str] = mapped_column(String(64))
    kind: Mapped[AccountMailKind] = mapped_column(enum_column(AccountMailKind, "account_mail_kind"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class RateLimitCount(Base):
    """A per-IP rate limiter's count for one key and window (Flask-Limiter's fixed window),
    kept in the database so every worker and instance counts together."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int]
    expires_at: Mapped[float] = mapped_column(Float(precision=53), index=True)  # epoch seconds
