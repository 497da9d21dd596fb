"""Password hashing with Argon2id (argon2-cffi): hashes only, never passwords, are stored."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = [
    "hash_password",
    "verify_password",
    "needs_rehash",
    "password_problems",
    "DUMMY_HASH",
    "MIN_PASSWORD_LENGTH",
]

_hasher = PasswordHasher()

#: Verified against when the username is unknown, so timing does not reveal which names exist.
DUMMY_HASH = _hasher.hash("ruleform-dummy-password")


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (False for a missing or broken hash)."""
    try:
        return _hasher.verify(stored_hash or DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)


#: New passwords must have at least this many characters (existing ones keep working).
MIN_PASSWORD_LENGTH = 8


def password_problems(password: str, username: str | None = None) -> list[str]:
    """Message codes for what is wrong with ``password`` as a new password (empty: fine)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append("password_too_short")
    if len(password) > 1024:
        problems.append("password_too_long")
    if username and password.strip().lower() == username.strip().lower():
        problems.append("password_is_username")
    return problems
