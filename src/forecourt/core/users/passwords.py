"""Passwords: argon2id through pwdlib (a maintained library; its verification compares
in constant time), and generated one-time passwords."""

from __future__ import annotations

import functools
import secrets

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from forecourt.kit.errors import InvalidInput
from forecourt.kit.text import check_no_nul

MIN_LENGTH = 12
MAX_LENGTH = 256  # anything longer is a mistake (a file piped in), not a password

# argon2-cffi's defaults (RFC 9106's second recommendation: 64 MiB, 3 passes, 4 lanes).
# When they change, verify_and_update() hands back a new hash at the next sign-in. (Tests
# swap in cheaper parameters, one place: each hash costs ~0.1 s of CPU by design.)
hasher = PasswordHash((Argon2Hasher(),))


def generate() -> str:
    """A one-time password: 128 random bits, 22 URL-safe characters."""
    return secrets.token_urlsafe(16)


def check(password: str) -> str:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInput(
            "password", f"password must have {MIN_LENGTH} to {MAX_LENGTH} characters, not {len(password)}"
        )
    check_no_nul("password", password)
    return password


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify(password: str, stored: str) -> tuple[bool, str | None]:
    """Whether the password matches the stored hash, and the hash to store instead when
    the hasher's parameters changed since it was made (None otherwise)."""
    return hasher.verify_and_update(password, stored)


@functools.cache
def _decoy(made_by: PasswordHash) -> str:
    return made_by.hash(secrets.token_urlsafe(16))


def verify_nothing(password: str) -> None:
    """Spend the time of a verification when there is no user to check against, so the
    answer's timing does not tell whether an email is a user's."""
    hasher.verify(password, _decoy(hasher))
