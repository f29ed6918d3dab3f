"""Accounts (tenants) and the credentials issued to them."""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

CredentialKind = Literal["api", "basic"]
API_KEY_PREFIX = "fck"
INGEST_KEY_PREFIX = "fci"  # operator keys for listing feeds
PREFIX_BYTES = 6  # a credential's public prefix: this many random bytes in hex
PREFIX_SHAPE = re.compile(f"[0-9a-f]{{{2 * PREFIX_BYTES}}}")


class Account(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    region: str
    cm_id: int
    created_at: datetime


class Credential(msgspec.Struct, frozen=True):
    """A credential as its account's managers see it: never its secret (only the hash is
    kept). Revoked ones stay listed, with when."""

    id: UUID
    kind: CredentialKind
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class IssuedCredential(msgspec.Struct, frozen=True):
    """A credential as it exists for the moment of its creation: the secret in clear."""

    id: UUID
    account_id: UUID
    kind: CredentialKind
    prefix: str
    secret: str

    @property
    def api_key(self) -> str:
        return f"{API_KEY_PREFIX}_{self.prefix}_{self.secret}"

    @property
    def basic_token(self) -> str:
        return base64.b64encode(f"{self.prefix}:{self.secret}".encode()).decode()

    def to_json(self) -> dict[str, str]:
        """What a CLI prints once: the only time the secret is ever shown."""
        shown = {
            "id": str(self.id),
            "account_id": str(self.account_id),
            "kind": self.kind,
            "prefix": self.prefix,
        }
        if self.kind == "api":
            shown["api_key"] = self.api_key
        else:
            shown.update(username=self.prefix, password=self.secret, basic_token=self.basic_token)
        return shown
