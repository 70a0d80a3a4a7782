"""Password hashing (argon2id) and the offline strength check."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from ...errors import InvalidInput

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile


def configure(*, time_cost: int | None = None, memory_cost: int | None = None) -> None:
    """Set the argon2id cost (tests lower it; production keeps the RFC 9106 defaults)."""
    global _hasher
    defaults = PasswordHasher()
    _hasher = PasswordHasher(
        time_cost=time_cost or defaults.time_cost,
        memory_cost=memory_cost or defaults.memory_cost,
    )
    _dummy_hash.cache_clear()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches the hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not a real password, only spends the same time")


def spend_verify_time(password: str) -> None:
    """Verify against a dummy hash, so an unknown e-mail costs as much as a known one."""
    verify_password(_dummy_hash(), password)


def check_strength(
    password: str, *, min_length: int, max_length: int, min_score: int, user_inputs: list[str]
) -> None:
    """Refuse a password that is too short, too long, or easy to guess."""
    if len(password) < min_length:
        raise InvalidInput(f"Use at least {min_length} characters.", field="password")
    if len(password) > max_length:
        raise InvalidInput(f"Use at most {max_length} characters.", field="password")
    # zxcvbn's cost grows with length; the first 100 characters decide whether it is common.
    result = zxcvbn(password[:100], user_inputs=[u for u in user_inputs if u])
    if result["score"] < min_score:
        feedback = result["feedback"]
        hint = feedback.get("warning") or "It is too easy to guess."
        suggestions = " ".join(feedback.get("suggestions") or [])
        raise InvalidInput(
            f"Choose a less common password. {hint.rstrip('.')}. {suggestions}".strip(),
            field="password",
        )
