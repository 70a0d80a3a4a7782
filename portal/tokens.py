"""Signed, expiring tokens for links sent by e-mail, and random single-use tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

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
