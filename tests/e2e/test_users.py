"""Staff users: `forecourt users ...` as an operator runs it, and the sign-in use case
(no HTTP route signs users in yet), on SQLite and PostgreSQL, with the test clock.

Hashes are argon2id through pwdlib, with cheaper parameters than production's (each
production hash costs ~0.15 s of CPU here, by design), except in the rehash test, which
signs in with production's hasher.
"""

from __future__ import annotations

import itertools
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from forecourt import bootstrap
from forecourt.cli.main import app
from forecourt.core.ratelimits.schemas import RateLimited
from forecourt.core.ratelimits.service import Limiter
from forecourt.core.users import passwords
from forecourt.core.users import service as users
from forecourt.core.users.schemas import User
from forecourt.db.engine import Database
from forecourt.db.models import metadata
from forecourt.db.models import users as users_table
from forecourt.kit.errors import TooManyRequests, Unauthenticated
from tests.conftest import Cli, MovableClock, settings_for

FAILURES = 3  # the lockout's limit in these tests (production: 10)
WINDOW = 60  # seconds
CHEAP = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "hasher", CHEAP)


@pytest.fixture
def limiter(db: Database, database_url: str, clock: MovableClock) -> Limiter:
    """The composition root's limiter, counting in the database (emptied by `db`)."""
    settings = settings_for(database_url, auth_failure_limit=FAILURES, auth_failure_window_seconds=WINDOW)
    return bootstrap.limiter(settings, db, clock)


@pytest.fixture
def account(cli: Cli) -> str:
    account_id: str = cli.create_account("Alpha Motors")["id"]
    return account_id


def create(cli: Cli, account_id: str, email: str, role: str = "sales", name: str = "Jo Bloggs") -> Any:
    return cli.ok("users", "create", account_id, "--email", email, "--name", name, "--role", role)


def with_stdin(cli: Cli, text: str, *args: str) -> Any:
    result = cli.runner.invoke(app, ["--database-url", cli.database_url, *args], input=text)
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def refused(cli: Cli, *args: str) -> str:
    result = cli.run(*args)
    assert result.exit_code != 0, result.output
    return result.output


def sign_in(
    db: Database, limiter: Limiter, account_id: str, email: str, password: str, address: str = "192.0.2.1"
) -> User:
    [user] = users.sign_in(
        db, limiter, account_id=uuid.UUID(account_id), email=email, password=password, address=address
    )
    return user


_addresses = itertools.count(1)


def cannot_sign_in(db: Database, limiter: Limiter, account_id: str, email: str, password: str) -> None:
    """Refused, as a wrong password is (from an address of its own: not for locking out)."""
    with pytest.raises(Unauthenticated, match=r"^Invalid email or password$"):
        sign_in(db, limiter, account_id, email, password, address=f"2001:db8::{next(_addresses):x}")


def stored_hash(db: Database) -> str:
    """The one user's password hash."""
    with db.read() as conn:
        found: str = conn.execute(sa.select(users_table.c.password_hash)).scalar_one()
    return found


def everything_stored(db: Database) -> Iterator[str]:
    """Every value of every row of every table, as text; and a SQLite database's files."""
    with db.read() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                yield from (str(value) for value in row)
    path = db.engine.url.database
    if db.is_sqlite and path:
        for file in (Path(path), Path(f"{path}-wal")):
            if file.exists():
                yield file.read_bytes().decode("latin-1")


# --- the CLI ------------------------------------------------------------------------


def test_create_prints_a_one_time_password_that_signs_in_and_is_stored_hashed(
    cli: Cli, db: Database, limiter: Limiter, account: str
) -> None:
    created = create(cli, account, "  Jo.Bloggs@Example.COM ", role="manager", name=" Jo   Bloggs ")
    assert uuid.UUID(created["id"])
    assert (created["account_id"], created["email"]) == (account, "jo.bloggs@example.com")
    assert (created["display_name"], created["role"], created["active"]) == ("Jo Bloggs", "manager", True)
    password = created["password"]
    assert len(password) >= 20

    user = sign_in(db, limiter, account, "JO.BLOGGS@example.com", password)
    assert (str(user.id), user.role) == (created["id"], "manager")

    assert not any(password in value for value in everything_stored(db))
    stored = stored_hash(db)
    assert stored.startswith("$argon2id$")

    listed = cli.ok("users", "list", account)
    assert [u["id"] for u in listed] == [created["id"]]
    assert "password" not in listed[0] and "password_hash" not in listed[0]
    assert password not in json.dumps(listed)


def test_a_password_from_stdin_is_not_printed_and_signs_in(
    cli: Cli, db: Database, limiter: Limiter, account: str
) -> None:
    chosen = "correct horse battery staple"
    created = with_stdin(
        cli, chosen + "\n", "users", "create", account, "--email", "a@example.com", "--name", "A",
        "--role", "sales", "--password-stdin",
    )  # fmt: skip
    assert "password" not in created
    assert sign_in(db, limiter, account, "a@example.com", chosen).id == uuid.UUID(created["id"])


def test_reset_password_replaces_the_old_one(cli: Cli, db: Database, limiter: Limiter, account: str) -> None:
    created = create(cli, account, "a@example.com")
    reset = cli.ok("users", "reset-password", created["id"])
    assert reset["id"] == created["id"] and reset["password"] != created["password"]
    cannot_sign_in(db, limiter, account, "a@example.com", created["password"])
    assert sign_in(db, limiter, account, "a@example.com", reset["password"]).id == uuid.UUID(created["id"])

    chosen = "another long passphrase"
    again = with_stdin(cli, chosen + "\r\n", "users", "reset-password", created["id"], "--password-stdin")
    assert "password" not in again
    cannot_sign_in(db, limiter, account, "a@example.com", reset["password"])
    assert sign_in(db, limiter, account, "a@example.com", chosen).id == uuid.UUID(created["id"])
    assert not any(chosen in value for value in everything_stored(db))


def test_a_deactivated_user_cannot_sign_in_until_activated(
    cli: Cli, db: Database, limiter: Limiter, account: str
) -> None:
    created = create(cli, account, "a@example.com")
    deactivated = cli.ok("users", "deactivate", created["id"])
    assert deactivated["active"] is False
    assert cli.ok("users", "list", account)[0]["active"] is False
    cannot_sign_in(db, limiter, account, "a@example.com", created["password"])

    assert cli.ok("users", "activate", created["id"])["active"] is True
    assert sign_in(db, limiter, account, "a@example.com", created["password"]).active


def test_wrong_passwords_unknown_emails_and_accounts_get_one_answer(
    cli: Cli, db: Database, limiter: Limiter, account: str
) -> None:
    created = create(cli, account, "a@example.com")
    cannot_sign_in(db, limiter, account, "a@example.com", created["password"] + "x")
    cannot_sign_in(db, limiter, account, "b@example.com", created["password"])
    cannot_sign_in(db, limiter, str(uuid.uuid4()), "a@example.com", created["password"])
    # Not an email (a NUL, which PostgreSQL would refuse in a query): refused the same way.
    cannot_sign_in(db, limiter, account, "a@example.com\x00", created["password"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "not-an-email", "--role", "sales"], "email is not an email address"),
        (["--email", "a@example.com", "--role", "owner"], "'owner' is not one of 'manager', 'sales'"),
        (["--email", "a@exam\x00ple.com", "--role", "sales"], "email is not an email address"),
    ],
)
def test_create_refuses_bad_input(cli: Cli, account: str, args: list[str], message: str) -> None:
    assert message in refused(cli, "users", "create", account, "--name", "A", *args)
    assert cli.ok("users", "list", account) == []


def test_create_refuses_a_short_password_and_an_unknown_account(cli: Cli, account: str) -> None:
    args = ["users", "create", account, "--email", "a@example.com", "--name", "A", "--role", "sales"]
    result = cli.runner.invoke(
        app, ["--database-url", cli.database_url, *args, "--password-stdin"], input="short\n"
    )
    assert result.exit_code == 1 and "password must have 12 to 256 characters" in result.output
    assert cli.ok("users", "list", account) == []

    nobody = str(uuid.uuid4())
    output = refused(
        cli, "users", "create", nobody, "--email", "a@example.com", "--name", "A", "--role", "sales"
    )
    assert f"No account with id {nobody}" in output
    assert f"No account with id {nobody}" in refused(cli, "users", "list", nobody)
    assert f"No user with id {nobody}" in refused(cli, "users", "deactivate", nobody)
    assert f"No user with id {nobody}" in refused(cli, "users", "activate", nobody)
    assert f"No user with id {nobody}" in refused(cli, "users", "reset-password", nobody)


def test_an_email_is_one_user_per_account(cli: Cli, db: Database, limiter: Limiter, account: str) -> None:
    first = create(cli, account, "a@example.com")
    output = refused(
        cli, "users", "create", account, "--email", "A@Example.com", "--name", "B", "--role", "sales"
    )
    assert "the account already has a user with email a@example.com" in output
    assert [u["id"] for u in cli.ok("users", "list", account)] == [first["id"]]
    assert sign_in(db, limiter, account, "a@example.com", first["password"]).id == uuid.UUID(first["id"])


# --- tenants --------------------------------------------------------------------------


def test_an_email_in_two_accounts_is_two_users(
    cli: Cli, db: Database, limiter: Limiter, clock: MovableClock, account: str
) -> None:
    other = cli.create_account("Beta Cars")["id"]
    at_a = create(cli, account, "jo@example.com", role="manager")
    at_b = create(cli, other, "jo@example.com", role="sales")
    assert at_a["id"] != at_b["id"]

    assert sign_in(db, limiter, account, "jo@example.com", at_a["password"]).role == "manager"
    assert sign_in(db, limiter, other, "jo@example.com", at_b["password"]).role == "sales"
    # Each password is its own account's.
    cannot_sign_in(db, limiter, account, "jo@example.com", at_b["password"])
    cannot_sign_in(db, limiter, other, "jo@example.com", at_a["password"])

    cli.ok("users", "deactivate", at_a["id"])
    cannot_sign_in(db, limiter, account, "jo@example.com", at_a["password"])
    clock.advance(WINDOW + 1)  # three failures of one email lock the person for a window
    assert sign_in(db, limiter, other, "jo@example.com", at_b["password"]).active


def test_tenants_see_only_their_own_users(cli: Cli, account: str) -> None:
    other = cli.create_account("Beta Cars")["id"]
    mine = create(cli, account, "a@example.com")
    theirs = create(cli, other, "b@example.com")
    assert [u["id"] for u in cli.ok("users", "list", account)] == [mine["id"]]
    assert [u["id"] for u in cli.ok("users", "list", other)] == [theirs["id"]]

    # Deactivating takes the user's own id; doing so touches no one else.
    cli.ok("users", "deactivate", mine["id"])
    assert cli.ok("users", "list", other)[0]["active"] is True


# --- throttling -----------------------------------------------------------------------


def test_failures_for_one_email_lock_it_from_every_address_until_the_window_passes(
    cli: Cli, db: Database, limiter: Limiter, clock: MovableClock, account: str
) -> None:
    created = create(cli, account, "a@example.com")
    for n in range(FAILURES):
        with pytest.raises(Unauthenticated):
            sign_in(db, limiter, account, "a@example.com", f"guess number {n}", address=f"198.51.100.{n}")
    # Locked, even with the right password from an address that never failed.
    with pytest.raises(TooManyRequests) as refusal:
        sign_in(db, limiter, account, "A@example.com", created["password"], address="203.0.113.9")
    assert isinstance(refusal.value, RateLimited)
    assert 0 < refusal.value.retry_after <= WINDOW
    # The lock is the person's: the same email at another account is locked too; another
    # email at this one is not.
    other = cli.create_account("Beta Cars")["id"]
    there = create(cli, other, "a@example.com")
    with pytest.raises(TooManyRequests):
        sign_in(db, limiter, other, "a@example.com", there["password"], address="203.0.113.9")
    colleague = create(cli, account, "b@example.com")
    assert sign_in(db, limiter, account, "b@example.com", colleague["password"], address="203.0.113.9")

    clock.advance(WINDOW + 1)
    assert sign_in(db, limiter, account, "a@example.com", created["password"], address="203.0.113.9")


def test_failures_from_one_address_lock_that_address_only(
    cli: Cli, db: Database, limiter: Limiter, clock: MovableClock, account: str
) -> None:
    created = create(cli, account, "a@example.com")
    for n in range(FAILURES):  # a different (unknown) email each time
        with pytest.raises(Unauthenticated):
            sign_in(db, limiter, account, f"nobody{n}@example.com", "guess", address="198.51.100.7")
    with pytest.raises(TooManyRequests):
        sign_in(db, limiter, account, "a@example.com", created["password"], address="198.51.100.7")
    assert sign_in(db, limiter, account, "a@example.com", created["password"], address="198.51.100.8")

    clock.advance(WINDOW + 1)
    assert sign_in(db, limiter, account, "a@example.com", created["password"], address="198.51.100.7")


# --- hashes ---------------------------------------------------------------------------


def test_a_hash_with_outdated_parameters_is_replaced_at_sign_in(
    cli: Cli, db: Database, limiter: Limiter, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = create(cli, account, "a@example.com")  # hashed with CHEAP's parameters
    old = stored_hash(db)
    assert "m=1024,t=1,p=1" in old

    production = PasswordHash((Argon2Hasher(),))
    monkeypatch.setattr(passwords, "hasher", production)
    assert sign_in(db, limiter, account, "a@example.com", created["password"])
    new = stored_hash(db)
    assert new.startswith("$argon2id$") and "m=65536,t=3,p=4" in new
    assert production.verify(created["password"], new)
    assert sign_in(db, limiter, account, "a@example.com", created["password"])


def test_passwords_never_reach_a_log(
    cli: Cli, db: Database, limiter: Limiter, account: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        created = create(cli, account, "a@example.com")
        sign_in(db, limiter, account, "a@example.com", created["password"])
        with pytest.raises(Unauthenticated):
            sign_in(db, limiter, account, "a@example.com", "wrong password attempt")
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert created["password"] not in logged and "wrong password attempt" not in logged
