"""Staff users: creation by the operator, deactivation, password resets, and sign-in.

Sign-in names the account. A user is (account, email): the same person on the staff of
two dealers is two users, with two passwords, roles and active flags, and the workspace's
sign-in page belongs to one account. Finding the user by email alone would need the
password to pick between accounts (ambiguous when both have the same one) and would
check one hash per account holding that email.
"""

from __future__ import annotations

import hashlib
import re
from uuid import UUID

from sqlalchemy.engine import Connection

from forecourt.core.accounts.service import require_account
from forecourt.core.ratelimits.service import Limiter
from forecourt.core.users import passwords, repository
from forecourt.core.users.schemas import ROLES, SIGN_IN_REFUSED, NewUser, Role, User, WithPassword
from forecourt.db.engine import Database
from forecourt.kit.dates import utcnow
from forecourt.kit.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from forecourt.kit.ids import new_id
from forecourt.kit.text import check_no_nul

# One @, no spaces or control characters, a dot in the domain: the shape of an address
# mail can be sent to. Whether it reaches someone is the operator's business.
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f.]+")
MAX_EMAIL = 254  # RFC 5321's limit for a path


def parse_email(raw: str) -> str:
    """An email address as stored and looked up: trimmed and lower-cased."""
    email = raw.strip().lower()
    if len(email) > MAX_EMAIL or not _EMAIL.fullmatch(email):
        raise InvalidInput("email", "email is not an email address")
    return email


def check_new_user(account_id: UUID, email: str, display_name: str, role: str) -> NewUser:
    check_no_nul("name", display_name)
    display_name = " ".join(display_name.split())
    if not 1 <= len(display_name) <= 200:
        raise InvalidInput("name", "name must have 1 to 200 characters")
    if role not in ROLES:
        raise InvalidInput("role", f"role must be one of {', '.join(ROLES)}")
    checked_role: Role = "manager" if role == "manager" else "sales"
    return NewUser(account_id, parse_email(email), display_name, checked_role)


def create_user(conn: Connection, new: NewUser, password: str | None = None) -> WithPassword:
    """A new active user. Without a password, one is generated and handed back: the only
    time it exists in clear."""
    require_account(conn, new.account_id)
    chosen = passwords.check(password) if password is not None else passwords.generate()
    now = utcnow()
    user = User(new_id(), new.account_id, new.email, new.display_name, new.role, True, now, now)
    if not repository.insert(conn, user, passwords.hash_password(chosen)):
        raise Conflict("email", f"the account already has a user with email {new.email}")
    return WithPassword(user, None if password is not None else chosen)


def list_users(conn: Connection, account_id: UUID) -> list[User]:
    require_account(conn, account_id)
    return repository.of_account(conn, account_id)


def set_active(
    conn: Connection, user_id: UUID, active: bool, *, account_id: UUID | None = None, by: UUID | None = None
) -> User:
    """Deactivated, the user can no longer sign in (their data and history stay);
    activated again, they can with the password they had. `account_id`: only a user of
    that account (the workspace; another account's is NotFound); `by`: the user asking,
    who may not deactivate themselves (they would be locked out at once)."""
    if not active and by == user_id:
        raise InvalidInput("user", "you cannot deactivate yourself: ask another manager")
    user = repository.set_active(conn, user_id, active, utcnow(), account_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}")
    return user


def reset_password(
    conn: Connection, user_id: UUID, password: str | None = None, *, account_id: UUID | None = None
) -> WithPassword:
    """A new password (generated and handed back once, unless one is given); the old one
    stops working at once. `account_id`: only a user of that account."""
    chosen = passwords.check(password) if password is not None else passwords.generate()
    if not repository.set_password_hash(conn, user_id, passwords.hash_password(chosen), utcnow(), account_id):
        raise NotFound(f"No user with id {user_id}")
    user = repository.get(conn, user_id, account_id)
    assert user is not None
    return WithPassword(user, None if password is not None else chosen)


def _email_throttle_key(email: str) -> str:
    return "email:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def sign_in(
    db: Database, limiter: Limiter, *, email: str, password: str, address: str, account_id: UUID | None = None
) -> list[User]:
    """The workspace's sign-in: the active users with this email and password, in any
    account (or in `account_id` only, once the person chose among several), or
    Unauthenticated (the same answer for an unknown email, a wrong password and a
    deactivated user, in about the same time: a hash is verified in every case).

    Usually one user; several only when the same person has the same password on the
    staff of several dealers, and then the caller asks which account they mean: the list
    names only accounts whose password was just given, so a stranger who knows an email
    learns nothing of where it is used. One hash is verified per account holding the
    email (one for none).

    Throttled by the rate limiter's failed sign-in lockout, with the API keys' settings:
    each failure counts against the email (across its accounts: the lock is the
    person's) and against the client's address, and once either has failed
    FORECOURT_AUTH_FAILURE_LIMIT times in the failure window, sign-ins with that email or
    from that address are refused (RateLimited, a TooManyRequests) before any check,
    even with the right password, until the window passes.

    Unlike other use cases this one opens its own transactions: a failure must be counted
    (committed) although the sign-in is refused, and no transaction is held while a
    password hash is verified (tens of milliseconds by design, which would hold SQLite's
    write lock). A hash made with older parameters is replaced by one with the current
    parameters once the password is known to be right.
    """
    try:
        email = parse_email(email)
    except InvalidInput:
        key = None
    else:
        key = _email_throttle_key(email)
    limiter.admit(address, key)
    found: list[tuple[User, str]] = []
    if key is not None:
        with db.read() as conn:
            found = [
                (user, stored)
                for user, stored in repository.for_email(conn, email)
                if account_id is None or user.account_id == account_id
            ]
    if not found:
        passwords.verify_nothing(password)
    matched: list[User] = []
    for user, stored in found:
        right, rehashed = passwords.verify(password, stored)
        if right and user.active:
            if rehashed is not None:
                with db.write() as conn:
                    repository.rehash(conn, user.id, stored, rehashed)
            matched.append(user)
    if not matched:
        limiter.failed(address, key)
        raise Unauthenticated(SIGN_IN_REFUSED)
    return matched
