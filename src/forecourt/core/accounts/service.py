"""Tenants and their credentials: creation, issue, revocation, authentication.

Secrets are high-entropy random strings, so a plain SHA-256 is the right hash (no
slow KDF needed); only the hash is stored and it is compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from uuid import UUID

from sqlalchemy.engine import Connection

from forecourt.core.accounts import repository
from forecourt.core.accounts.schemas import (
    API_KEY_PREFIX,
    INGEST_KEY_PREFIX,
    PREFIX_BYTES,
    PREFIX_SHAPE,
    Account,
    Credential,
    CredentialKind,
    IssuedCredential,
)
from forecourt.kit.dates import utcnow
from forecourt.kit.errors import InvalidInput, NotFound, Unauthenticated
from forecourt.kit.ids import new_id
from forecourt.kit.vehicles import parse_region


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_account(conn: Connection, name: str, region: str = "au") -> tuple[Account, IssuedCredential]:
    """A new tenant with its first API key."""
    name = name.strip()
    if not name:
        raise InvalidInput("name", "name must not be empty")
    account = Account(
        id=new_id(),
        name=name,
        region=parse_region(region),
        cm_id=repository.next_cm_id(conn),
        created_at=utcnow(),
    )
    repository.insert_account(conn, account)
    return account, issue_credential(conn, account.id, "api")


def list_accounts(conn: Connection) -> list[Account]:
    return repository.list_accounts(conn)


def require_account(conn: Connection, account_id: UUID) -> Account:
    """The account, or NotFound naming the id (for the operator's commands)."""
    account = repository.get_account(conn, account_id)
    if account is None:
        raise NotFound(f"No account with id {account_id}")
    return account


def issue_credential(conn: Connection, account_id: UUID, kind: CredentialKind) -> IssuedCredential:
    require_account(conn, account_id)
    credential = IssuedCredential(
        id=new_id(),
        account_id=account_id,
        kind=kind,
        prefix=secrets.token_hex(PREFIX_BYTES),
        secret=secrets.token_urlsafe(32),
    )
    repository.insert_credential(
        conn,
        credential_id=credential.id,
        account_id=account_id,
        kind=kind,
        prefix=credential.prefix,
        secret_hash=_hash(credential.secret),
        created_at=utcnow(),
    )
    return credential


def revoke_credential(conn: Connection, prefix: str, account_id: UUID | None = None) -> None:
    """It stops working at once. `account_id`: only a credential of that account (the
    workspace: another account's prefix is NotFound, as an unknown one)."""
    if not PREFIX_SHAPE.fullmatch(prefix):  # no key's (and a NUL is more than PostgreSQL takes)
        raise NotFound(f"No active credential with prefix {prefix!r}")
    if not repository.revoke_credential(conn, prefix, utcnow(), account_id):
        raise NotFound(f"No active credential with prefix {prefix}")


CREDENTIALS_MAX = 200


def credentials(conn: Connection, account_id: UUID) -> list[Credential]:
    """The account's credentials (at most CREDENTIALS_MAX, the unrevoked first, newest
    first): prefix, kind, created and revoked, never a secret."""
    require_account(conn, account_id)
    return repository.credentials_of(conn, account_id, CREDENTIALS_MAX)


def credential(conn: Connection, account_id: UUID, prefix: str) -> Credential:
    """One of the account's credentials by its prefix (another account's is NotFound)."""
    found = repository.credential_of(conn, account_id, prefix) if PREFIX_SHAPE.fullmatch(prefix) else None
    if found is None:
        raise NotFound(f"No credential with prefix {prefix!r}")
    return found


def _authenticate(conn: Connection, kind: CredentialKind, prefix: str, secret: str) -> Account:
    found = repository.active_credential(conn, kind, prefix)
    if found is not None and hmac.compare_digest(found[1], _hash(secret)):
        return found[0]
    raise Unauthenticated("Invalid credentials")


def _shaped(prefix: str, secret: str) -> tuple[str, str] | None:
    # A prefix of another shape than issue_credential makes is no key's (and a NUL in it
    # is more than PostgreSQL takes): refused before any query.
    return (prefix, secret) if PREFIX_SHAPE.fullmatch(prefix) else None


def _split_key(key: str | None, kind: str) -> tuple[str, str] | None:
    """(prefix, secret) of a `<kind>_<prefix>_<secret>` key, if it is shaped like one."""
    parts = (key or "").strip().split("_", 2)
    return _shaped(parts[1], parts[2]) if len(parts) == 3 and parts[0] == kind else None


def _split_basic(token: str | None) -> tuple[str, str] | None:
    """(prefix, secret) of a Basic token (base64 of `prefix:secret`)."""
    try:
        decoded = base64.b64decode((token or "").strip(), validate=True).decode()
    except (ValueError, UnicodeError):  # not base64 (binascii.Error), not ASCII, not UTF-8
        return None
    prefix, sep, secret = decoded.partition(":")
    return _shaped(prefix, secret) if sep else None


def _prefix(split: tuple[str, str] | None) -> str | None:
    return split[0] if split else None


def api_key_prefix(api_key: str | None) -> str | None:
    """The public prefix of a presented API key (what failed sign-ins are counted by)."""
    return _prefix(_split_key(api_key, API_KEY_PREFIX))


def basic_prefix(token: str | None) -> str | None:
    return _prefix(_split_basic(token))


def ingest_key_prefix(key: str | None) -> str | None:
    return _prefix(_split_key(key, INGEST_KEY_PREFIX))


def authenticate_api_key(conn: Connection, api_key: str | None) -> Account:
    """The account an `fck_<prefix>_<secret>` key belongs to."""
    split = _split_key(api_key, API_KEY_PREFIX)
    if split is None:
        raise Unauthenticated("Invalid credentials")
    return _authenticate(conn, "api", *split)


def authenticate_basic(conn: Connection, token: str | None) -> Account:
    """The account a Basic token (base64 of `prefix:secret`) belongs to."""
    split = _split_basic(token)
    if split is None:
        raise Unauthenticated("Invalid credentials")
    return _authenticate(conn, "basic", *split)


def issue_ingest_key(conn: Connection) -> str:
    """An operator key for pushing marketplace listings (`fci_<prefix>_<secret>`)."""
    prefix, secret = secrets.token_hex(PREFIX_BYTES), secrets.token_urlsafe(32)
    repository.insert_ingest_key(conn, new_id(), prefix, _hash(secret), utcnow())
    return f"{INGEST_KEY_PREFIX}_{prefix}_{secret}"


def revoke_ingest_key(conn: Connection, prefix: str) -> None:
    if not repository.revoke_ingest_key(conn, prefix, utcnow()):
        raise NotFound(f"No active ingest key with prefix {prefix}")


def authenticate_ingest_key(conn: Connection, key: str | None) -> None:
    split = _split_key(key, INGEST_KEY_PREFIX)
    if split is not None:
        stored = repository.active_ingest_key_hash(conn, split[0])
        if stored is not None and hmac.compare_digest(stored, _hash(split[1])):
            return
    raise Unauthenticated("Invalid ingest key")
