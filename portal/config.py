"""Configuration layers: defaults, then instance/config.py, then the environment, then tests."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

# The project's folder: templates/, static/ and instance/ sit beside the package.
ROOT = Path(__file__).resolve().parent.parent

HTMX_VERSION = "2.0.11"
# sha384 of htmx.org@2.0.11 dist/htmx.min.js; tests check the vendored copy against it.
HTMX_SRI = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"
HTMX_CDN_URL = f"https://cdn.jsdelivr.net/npm/htmx.org@{HTMX_VERSION}/dist/htmx.min.js"


class Defaults:
    """Settings every deployment starts from; each can be overridden by a later layer."""

    DATABASE_URL: str | None = None  # None: SQLite at instance/portal.sqlite3
    SQLITE_BUSY_TIMEOUT_MS = 15_000

    # Sessions: a signed cookie naming a session record in the database, which sign-out,
    # "sign out everywhere else" and a password change revoke.
    SESSION_COOKIE_NAME = "portal_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_REFRESH_EACH_REQUEST = False  # the session check refreshes it once a minute
    SESSION_COOKIE_SECURE = True
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)  # the absolute limit
    SESSION_IDLE_MINUTES = 60
    # Exporting personal data (and other sensitive pages) asks for the password again
    # unless it was typed in this session this recently.
    REAUTHENTICATION_MINUTES = 10
    # Between a right password and the two-factor code: how long the password step holds.
    TWO_FACTOR_PENDING_MINUTES = 5
    # Flask-Login's remember-me cookie is unused, but make it safe should anything set it.
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=1)

    # A token set once on <body> for htmx must not expire while the page stays open.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_ENABLED = True

    MAX_CONTENT_LENGTH = 2 * 1024 * 1024  # uploads raise it for their own routes
    MAX_FORM_MEMORY_SIZE = 512 * 1024
    # The largest PDF staff may upload as a document version; its route admits a body this
    # large plus room for the form's other fields (portal/uploads.py).
    DOCUMENT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024

    # Accounts
    PASSWORD_MIN_LENGTH = 12
    PASSWORD_MAX_LENGTH = 256
    PASSWORD_MIN_SCORE = 3  # zxcvbn score 0-4
    # The argon2id cost of new password hashes: RFC 9106's low-memory profile (argon2-cffi's
    # own defaults). Stated here so PORTAL_ARGON2_* read from the environment are numbers.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 64 * 1024  # KiB
    LOGIN_MAX_FAILURES = 10
    LOGIN_FAILURE_WINDOW_MINUTES = 15
    # The owner of a locked account is mailed a link that lets them in for this long.
    LOGIN_UNLOCK_MAX_AGE_HOURS = 24
    LOGIN_RATE_LIMIT = "30 per minute"  # per IP, by Flask-Limiter
    VERIFY_RATE_LIMIT = "60 per minute"  # per IP, for /verify/<code>
    # Downloads that must render a document's PDF (each version's is rendered once, then kept).
    DOCUMENT_RENDER_RATE_LIMIT = "10 per minute"  # per IP
    DOCUMENT_RENDER_RATE_LIMIT_ALL = "30 per minute"  # from all addresses together
    # Where the per-IP limiter counts: database:// is the portal's own database (shared by
    # every worker and instance); redis://host:6379/0 uses Redis; memory:// counts per
    # process (a limit of 30 lets 30 through each worker).
    RATELIMIT_STORAGE_URI = "database://"
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    EMAIL_VERIFY_MAX_AGE_HOURS = 48
    PASSWORD_RESET_MAX_AGE_MINUTES = 60
    # Mails anyone can have sent to an address (reset links, "you already have an account",
    # unlock links): at most this many of each kind per address an hour.
    ACCOUNT_MAILS_PER_HOUR = 3
    # How long the old address can cancel a change of e-mail address.
    EMAIL_CHANGE_CANCEL_HOURS = 72

    # Mail: with no SMTP host, messages are written to instance/outbox/.
    # The sender of every message; unset, the co-op's short name and contact address.
    MAIL_FROM: str | None = None
    SMTP_HOST: str | None = None
    SMTP_PORT = 587
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_STARTTLS = True
    SMTP_TIMEOUT = 10

    PDF_RENDER_TIMEOUT_SECONDS = 20

    # Background work (portal/tasks.py): unset, a SQLite file in instance/ read by
    # `flask --app portal worker` (immediate under TESTING); "immediate"; redis://… in
    # production; postgresql://… for a database of huey's own.
    TASK_QUEUE: str | None = None

    # Front end
    HTMX_LOCAL = False  # serve static/vendor/htmx.min.js instead of the CDN
    BEHIND_PROXY = 0  # number of trusted proxies in front (ProxyFix)
    # Use the proxy's X-Request-ID as the request's id in the log line (portal.request_log);
    # only when the proxy always sets it itself, else a client could choose its own id.
    REQUEST_ID_FROM_PROXY = False
    PREFERRED_URL_SCHEME = "https"
    SERVER_NAME: str | None = None
    # The portal's public address (scheme and host): every absolute link is made from it.
    PUBLIC_BASE_URL: str | None = None
    # The hosts requests may name; None: the public address's (links.trusted_hosts).
    TRUSTED_HOSTS: list[str] | None = None

    # The co-operative, shown on the landing page and in mail.
    COOP_NAME = "Reverb Music Co-op"
    COOP_LEGAL_NAME = "Reverb Music Co-operative Society Ltd"
    COOP_REGISTRATION = "Registered Society No. 5678R (Ireland)"
    COOP_ADDRESS = "12 Ormond Quay Upper, Dublin 7, D07 X2Y3, Ireland"
    COOP_TIMEZONE = "Europe/Dublin"
    COOP_TAGLINE = (
        "A streaming music service owned by the people who make it, play it and build it."
    )
    COOP_PURPOSE = (
        "Reverb is a multi-stakeholder co-operative. Artists, listeners and the workers who "
        "build the service own it together, share its surplus fairly and decide its future "
        "one member, one vote."
    )
    COOP_CONTACT_EMAIL = "members@reverb.example"
    COOP_RULEBOOK_VERSION = "Rules of Reverb Music Co-operative Society Ltd, 2025 edition"


_ENV_JSON = (bool, int, float, list, dict, timedelta)


def _coerce(name: str, raw: str, default: Any) -> Any:
    """Turn an environment string into the type of the default it replaces."""
    if isinstance(default, bool) or (default is None and raw.lower() in {"true", "false"}):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, timedelta):
        return timedelta(seconds=int(raw))
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, _ENV_JSON):
        return json.loads(raw)
    return raw


def from_environment(config: dict[str, Any], environ: os._Environ[str] | dict[str, str]) -> None:
    """Apply PORTAL_* variables, DATABASE_URL and SECRET_KEY from the environment."""
    for key, raw in environ.items():
        if key.startswith("PORTAL_"):
            name = key.removeprefix("PORTAL_")
            try:
                config[name] = _coerce(name, raw, config.get(name))
            except ValueError as exc:
                raise RuntimeError(f"{key}: cannot read {raw!r} ({exc})") from exc
    if environ.get("DATABASE_URL"):
        config["DATABASE_URL"] = environ["DATABASE_URL"]
    if environ.get("SECRET_KEY"):
        config["SECRET_KEY"] = environ["SECRET_KEY"]


def public_base_url(config: Mapping[str, Any]) -> str:
    """The portal's public address: every absolute link (mail, certificates) starts with it."""
    return config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000"


def ensure_secret_key(config: dict[str, Any], instance_path: Path) -> None:
    """Read the secret key from instance/secret_key, generating it once if missing."""
    if config.get("SECRET_KEY"):
        return
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two workers starting together must not write two different keys.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    config["SECRET_KEY"] = key_file.read_text().strip()
