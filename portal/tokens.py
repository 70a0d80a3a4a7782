"""Signed, expiring tokens for links sent by e-mail, random single-use tokens, and the
encryption of the few secrets the portal must read back (two-factor secrets)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=f"portal.{purpose}")


def sign(purpose: str, payload: Any) -> str:
    """A URL-safe token carrying ``payload``, signed for one purpose."""
    return _serializer(purpose).dumps(payload)


def unsign(purpose: str, token: str, *, max_age_seconds: int) -> Any | None:
    """The payload of a valid, unexpired token for ``purpose``; None otherwise."""
    try:
        return _serializer(purpose).loads(token, max_age=max_age_seconds)
    except BadSignature:
        return None


def random_token() -> tuple[str, str]:
    """A new random token and the SHA-256 hex digest to store in its place."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


def digest(token: str) -> str:
    """The SHA-256 hex digest under which a random token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def keyed_digest(value: str) -> str:
    """A keyed SHA-256 (HMAC) hex digest of ``value``: counts by an e-mail address without
    keeping the address, and without letting a copy of the table be matched to addresses."""
    key = current_app.secret_key
    key_bytes = key.encode() if isinstance(key, str) else bytes(key or b"")
    return hmac.new(key_bytes, value.encode(), hashlib.sha256).hexdigest()


def _fernet() -> Fernet:
    """Fernet keyed by the app's secret key through HKDF, for one purpose only."""
    key = current_app.secret_key
    key_bytes = key.encode() if isinstance(key, str) else bytes(key or b"")
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"portal.totp-secret"
    ).derive(key_bytes)
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(value: str) -> str:
    """``value`` encrypted and authenticated (Fernet) under a key derived from the app's
    secret key: a copy of the database without the key does not reveal it."""
    return _fernet().encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    """The plain text of :func:`encrypt`'s output (InvalidToken if the key has changed)."""
    return _fernet().decrypt(value.encode()).decode()
