"""The `forecourt` CLI, in-process: accounts and keys as an operator uses them.

Runs on SQLite and, when FORECOURT_TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import base64
import json
import re
import uuid

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from forecourt.cli.main import app
from forecourt.core.accounts.schemas import Account
from forecourt.core.accounts.service import authenticate_api_key, authenticate_basic
from forecourt.db.engine import Database
from forecourt.db.models import credentials, metadata
from forecourt.kit.errors import Unauthenticated
from tests.conftest import Cli


def _api_key_account(db: Database, api_key: str) -> Account:
    with db.read() as conn:
        return authenticate_api_key(conn, api_key)


def _basic_account(db: Database, token: str) -> Account:
    with db.read() as conn:
        return authenticate_basic(conn, token)


# --- accounts -----------------------------------------------------------------------


def test_accounts_create_prints_the_account_and_a_working_key(cli: Cli, db: Database) -> None:
    created = cli.create_account("Kiwi Cars", "nz")
    assert isinstance(created, dict)
    assert uuid.UUID(created["id"])
    assert type(created["cm_id"]) is int
    assert created["name"] == "Kiwi Cars"
    assert created["region"] == "nz"
    assert created["api_key"].startswith("fck_")
    assert created["key_prefix"] in created["api_key"]

    account = _api_key_account(db, created["api_key"])
    assert str(account.id) == created["id"]
    assert account.region == "nz"
    assert account.cm_id == created["cm_id"]


def test_accounts_create_defaults_to_au(cli: Cli) -> None:
    created = cli.ok("accounts", "create", "--name", "Alpha Motors")
    assert created["region"] == "au"


def test_keys_are_stored_hashed(cli: Cli, db: Database) -> None:
    created = cli.create_account()
    basic = cli.ok("keys", "create", created["id"], "--kind", "basic")
    api_secret = created["api_key"].split("_", 2)[2]
    secrets = [created["api_key"], api_secret, basic["password"], basic["basic_token"]]

    with db.read() as conn:
        stored = conn.execute(sa.select(credentials)).all()
        everything = [
            str(value)
            for table in metadata.sorted_tables
            for row in conn.execute(sa.select(table))
            for value in row
        ]
    assert len(stored) == 2
    # The prefix is kept (operators revoke by it); the secret only as a hash.
    assert {row.prefix for row in stored} == {created["key_prefix"], basic["prefix"]}
    for secret in secrets:
        assert not any(secret in value for value in everything), "a secret was stored in clear"


def test_accounts_list_is_a_json_array_of_accounts(cli: Cli) -> None:
    assert cli.ok("accounts", "list") == []
    first = cli.create_account("Alpha Motors", "au")
    second = cli.create_account("Kiwi Cars", "nz")

    listed = cli.ok("accounts", "list")
    assert isinstance(listed, list)
    by_id = {entry["id"]: entry for entry in listed}
    assert set(by_id) == {first["id"], second["id"]}
    assert by_id[first["id"]]["name"] == "Alpha Motors"
    assert by_id[second["id"]]["region"] == "nz"
    assert by_id[second["id"]]["cm_id"] == second["cm_id"]
    # In UTC with a Z, as the APIs write times.
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["created_at"]) for e in listed)
    # The list never shows a secret.
    assert "api_key" not in json.dumps(listed)
    assert first["api_key"] not in json.dumps(listed)


def test_each_account_gets_its_own_cm_id(cli: Cli) -> None:
    cm_ids = [cli.create_account(f"Dealer {n}")["cm_id"] for n in range(3)]
    assert len(set(cm_ids)) == 3  # and they count nothing: tests/e2e/test_ids.py


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["accounts", "create", "--name", "   "], "name must not be empty"),
        (["accounts", "create", "--name", "X", "--region", "uk"], "'uk' is not one of"),
        (["accounts", "create"], "Missing option '--name'"),
    ],
)
def test_accounts_create_rejects_bad_input(cli: Cli, args: list[str], message: str, db: Database) -> None:
    result = cli.run(*args)
    assert result.exit_code != 0
    assert message in result.stderr
    assert result.stdout == ""
    assert cli.ok("accounts", "list") == []


# --- keys ---------------------------------------------------------------------------


def test_keys_create_issues_another_working_api_key(cli: Cli, db: Database) -> None:
    created = cli.create_account()
    issued = cli.ok("keys", "create", created["id"])
    assert issued["kind"] == "api"
    assert issued["account_id"] == created["id"]
    assert issued["api_key"] != created["api_key"]
    assert issued["prefix"] != created["key_prefix"]

    assert str(_api_key_account(db, issued["api_key"]).id) == created["id"]
    # The first key keeps working.
    assert str(_api_key_account(db, created["api_key"]).id) == created["id"]


def test_keys_create_basic_issues_working_basic_credentials(cli: Cli, db: Database) -> None:
    created = cli.create_account()
    issued = cli.ok("keys", "create", created["id"], "--kind", "basic")
    assert issued["kind"] == "basic"
    assert "api_key" not in issued
    assert issued["username"] == issued["prefix"]

    assert str(_basic_account(db, issued["basic_token"]).id) == created["id"]
    # Basic credentials are not an API key, and an API key is not Basic credentials.
    with pytest.raises(Unauthenticated):
        _api_key_account(db, f"fck_{issued['username']}_{issued['password']}")
    api_prefix, api_secret = created["api_key"].split("_", 2)[1:]
    as_basic = base64.b64encode(f"{api_prefix}:{api_secret}".encode()).decode()
    with pytest.raises(Unauthenticated):
        _basic_account(db, as_basic)


def test_keys_revoke_stops_the_key_at_once(cli: Cli, db: Database) -> None:
    created = cli.create_account()
    spare = cli.ok("keys", "create", created["id"])

    assert cli.ok("keys", "revoke", created["key_prefix"]) == {"revoked": created["key_prefix"]}
    with pytest.raises(Unauthenticated):
        _api_key_account(db, created["api_key"])
    # Only that key: the account's other key still works.
    assert str(_api_key_account(db, spare["api_key"]).id) == created["id"]


def test_keys_revoke_basic_credentials(cli: Cli, db: Database) -> None:
    created = cli.create_account()
    basic = cli.ok("keys", "create", created["id"], "--kind", "basic")
    cli.ok("keys", "revoke", basic["prefix"])
    with pytest.raises(Unauthenticated):
        _basic_account(db, basic["basic_token"])
    assert str(_api_key_account(db, created["api_key"]).id) == created["id"]


def test_keys_create_for_unknown_account_fails_clearly(cli: Cli) -> None:
    missing = str(uuid.uuid4())
    result = cli.run("keys", "create", missing)
    assert result.exit_code == 1
    assert f"No account with id {missing}" in result.stderr
    assert result.stdout == ""


def test_keys_create_with_malformed_account_id_is_a_usage_error(cli: Cli) -> None:
    result = cli.run("keys", "create", "not-a-uuid")
    assert result.exit_code == 2
    assert "not-a-uuid" in result.stderr
    assert result.stdout == ""


def test_keys_revoke_unknown_prefix_fails_clearly(cli: Cli) -> None:
    result = cli.run("keys", "revoke", "deadbeef0000")
    assert result.exit_code == 1
    assert "No active credential with prefix deadbeef0000" in result.stderr
    assert result.stdout == ""


def test_keys_revoke_twice_fails_the_second_time(cli: Cli) -> None:
    created = cli.create_account()
    cli.ok("keys", "revoke", created["key_prefix"])
    result = cli.run("keys", "revoke", created["key_prefix"])
    assert result.exit_code == 1
    assert f"No active credential with prefix {created['key_prefix']}" in result.stderr


@pytest.mark.parametrize("group", [[], ["db"], ["accounts"], ["listings"], ["inventory"]])
def test_help_lists_each_command_with_its_whole_description(group: list[str]) -> None:
    result = CliRunner().invoke(app, [*group, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    listed = " ".join(result.output.split("Commands:")[1].split())
    assert "..." not in listed
    command: click.Command = app
    for name in group:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    assert isinstance(command, click.Group)
    for sub in command.commands.values():
        first_paragraph = " ".join((sub.help or "").split("\n\n")[0].split())
        assert first_paragraph in listed
