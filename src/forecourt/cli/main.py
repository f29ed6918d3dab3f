"""The `forecourt` command. Commands that create a credential print one JSON object."""

from __future__ import annotations

import json
import logging
import logging.config
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import click
import httpx
import msgspec

from forecourt.cli import logs
from forecourt.config import Settings
from forecourt.core.accounts import service as accounts
from forecourt.core.accounts.service import require_account
from forecourt.core.adapters import Adapters
from forecourt.core.optouts import service as optouts
from forecourt.core.users import service as users
from forecourt.core.users.schemas import User
from forecourt.db import backup, migrate
from forecourt.db.engine import Database, sqlite_file
from forecourt.kit.dates import format_timestamp
from forecourt.kit.errors import DomainError
from forecourt.kit.text import camel_keys
from forecourt.kit.vehicles import parse_region


def _settings(ctx: click.Context, **overrides: Any) -> Settings:
    try:
        return Settings.load(database_url=ctx.obj.get("database_url"), **overrides)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _open(settings: Settings, *, create: bool = False) -> Database:
    """The configured database. Only `serve`, `worker` and `db upgrade` make a new SQLite
    file: any other command run from the wrong folder would work on an empty database."""
    path = sqlite_file(settings.database_url)
    if path is not None and not create and not path.exists():
        raise click.ClickException(
            f"no Forecourt database at {path.resolve()} (FORECOURT_DATABASE_URL is"
            f" {settings.database_url!r}; a relative path is read from the current folder)."
            " Run the command in the folder Forecourt serves from, pass --database-url,"
            " or create the database with `forecourt db upgrade`."
        )
    db = Database.configured(settings)
    if db.is_sqlite:
        # Embedded mode is one node: keep its schema current whenever it is opened. On
        # PostgreSQL several processes share the schema: the operator runs `db upgrade`.
        migrate.upgrade(settings.database_url)
    return db


@contextmanager
def _db(ctx: click.Context) -> Iterator[Database]:
    """The database for one command; its connections are closed when the command ends."""
    db = _open(_settings(ctx))
    try:
        yield db
    finally:
        db.dispose()


def _adapters(ctx: click.Context, database: Database) -> Adapters:
    """The outside world's adapters, from the composition root (as `serve` has them)."""
    from forecourt import bootstrap

    return bootstrap.adapters(_settings(ctx), database)


@contextmanager
def _domain_errors() -> Iterator[None]:
    """A domain error becomes a clean CLI error: exit 1, the message on stderr."""
    try:
        yield
    except DomainError as exc:
        raise click.ClickException(exc.message) from None


def _print(value: Any) -> None:
    click.echo(json.dumps(value, default=str))


def _setup_logging(settings: Settings) -> None:
    logging.config.dictConfig(logs.config(settings))


class _Command(click.Command):
    def get_short_help_str(self, limit: int = 45) -> str:
        # The first paragraph whole, wrapped by the help formatter (click cuts it at 45
        # characters with "...", mid-sentence).
        return self.short_help or " ".join((self.help or "").split("\n\n")[0].split())


class _Group(_Command, click.Group):
    command_class = _Command
    group_class = type  # subgroups are _Groups too


@click.group(cls=_Group)
@click.option("--database-url", help="Overrides FORECOURT_DATABASE_URL.")
@click.pass_context
def app(ctx: click.Context, database_url: str | None) -> None:
    """Forecourt: customer data for car dealers."""
    ctx.ensure_object(dict)
    ctx.obj["database_url"] = database_url


@app.command()
@click.option("--host", help="Overrides FORECOURT_HOST (default 127.0.0.1).")
@click.option("--port", type=int, help="Overrides FORECOURT_PORT (default 8000).")
@click.option("--database-url", "serve_database_url", help="Overrides FORECOURT_DATABASE_URL.")
@click.option(
    "--processes",
    type=click.IntRange(0),
    help="Overrides FORECOURT_PROCESSES: API processes (default 0: one per core).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    serve_database_url: str | None,
    processes: int | None,
) -> None:
    """Serve the API. With one process, a worker runs embedded in it; with several, in
    FORECOURT_WORKER_CONCURRENCY processes of their own (none if FORECOURT_EMBEDDED_WORKER=false)."""
    import uvicorn

    from forecourt import bootstrap
    from forecourt.cli import processes as supervising

    if serve_database_url:
        ctx.obj["database_url"] = serve_database_url
    settings = _settings(ctx, host=host, port=port, processes=processes)
    _check_counts(settings)
    _setup_logging(settings)
    # The port first: uvicorn would bind it after the app's startup, so on a busy port
    # the embedded worker would start (and might take a job) before serve fails.
    listening = _listen(settings.host, settings.port)
    count = settings.api_processes
    if count > 1:
        _open(settings, create=True).dispose()  # made and migrated once, before the processes
        workers = settings.worker_concurrency if settings.embedded_worker else 0
        sys.exit(supervising.serve(settings, listening, count, workers))
    application = bootstrap.serving(settings, _open(settings, create=True))
    # uvicorn drains on SIGTERM, then re-raises it; by then the work is done, so exit 0.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    config = supervising.server_config(settings, application, 1)
    uvicorn.Server(config).run(sockets=[listening])


def _check_counts(settings: Settings) -> None:
    if settings.processes < 0:
        raise click.UsageError("FORECOURT_PROCESSES must be 0 (one per core) or more")
    if settings.worker_concurrency < 1:
        raise click.UsageError("FORECOURT_WORKER_CONCURRENCY must be 1 or more")


def _listen(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP named, not left 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only
    # on connections whose socket says TCP, and with it on, a response written as head and
    # body waited for the client's delayed ACK: 40 ms added to every keep-alive request.
    sock = socket.socket(
        socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP
    )
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise click.ClickException(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def _exit_cleanly(*_: Any) -> None:
    raise SystemExit(0)


@app.command()
@click.option(
    "--concurrency",
    type=click.IntRange(1),
    help="Overrides FORECOURT_WORKER_CONCURRENCY: jobs run at once, each in a process (default 1).",
)
@click.pass_context
def worker(ctx: click.Context, concurrency: int | None) -> None:
    """Run background jobs until SIGTERM or SIGINT (the jobs in hand are finished first)."""
    from forecourt.cli import processes as supervising

    settings = _settings(ctx, worker_concurrency=concurrency)
    _check_counts(settings)
    _setup_logging(settings)
    _open(settings, create=True).dispose()  # made and migrated once, before the workers
    if settings.worker_concurrency == 1:
        supervising.work(settings, configure_logging=False)  # in this process, as ever
    else:
        sys.exit(supervising.run_workers(settings, settings.worker_concurrency))


@app.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply all migrations."""
    migrate.upgrade(_settings(ctx).database_url)
    click.echo("database is up to date", err=True)


@db.command("check")
@click.pass_context
def db_check(ctx: click.Context) -> None:
    """Fail if the models and the migrations disagree (on a scratch SQLite file by default)."""
    with tempfile.TemporaryDirectory() as scratch:
        url = ctx.obj.get("database_url") or f"sqlite:///{scratch}/check.db"
        migrate.upgrade(url)
        migrate.check(url)


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def db_backup(ctx: click.Context, file: Path) -> None:
    """Copy the SQLite database into FILE (a new file) while it is in use: a consistent
    snapshot that `forecourt serve --database-url sqlite:///FILE` opens. On PostgreSQL,
    prints the pg_dump command to run instead and exits 1."""
    url = _settings(ctx).database_url
    try:
        source = backup.sqlite_path(url)
        if source is None:
            raise click.ClickException(backup.use_pg_dump(url, file))
        size = backup.backup_sqlite(source, file)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    _print({"backup": str(file), "bytes": size})


@app.group("accounts")
def accounts_group() -> None:
    """Tenants."""


@accounts_group.command("create")
@click.option("--name", required=True)
@click.option("--region", type=click.Choice(["au", "nz"]), default="au", show_default=True)
@click.pass_context
def accounts_create(ctx: click.Context, name: str, region: str) -> None:
    """Create an account and its first API key (shown once)."""
    with _db(ctx) as database, database.write() as conn, _domain_errors():
        account, key = accounts.create_account(conn, name, region)
    _print(
        {
            "id": str(account.id),
            "name": account.name,
            "region": account.region,
            "cm_id": account.cm_id,
            "api_key": key.api_key,
            "key_prefix": key.prefix,
        }
    )


@accounts_group.command("list")
@click.pass_context
def accounts_list(ctx: click.Context) -> None:
    """All accounts, as a JSON array."""
    with _db(ctx) as database, database.read() as conn:
        found = accounts.list_accounts(conn)
    _print(
        [
            {
                "id": str(a.id),
                "name": a.name,
                "region": a.region,
                "cm_id": a.cm_id,
                "created_at": format_timestamp(a.created_at),
            }
            for a in found
        ]
    )


@accounts_group.command("usage")
@click.argument("account_id", type=click.UUID, required=False)
@click.pass_context
def accounts_usage(ctx: click.Context, account_id: UUID | None) -> None:
    """Registration lookups made per account and month (they cost money), as a JSON array."""
    from forecourt.core.usage import repository as usage

    with _db(ctx) as database, database.read() as conn:
        rows = usage.report(conn, account_id)
    _print(rows)


@app.group("keys")
def keys_group() -> None:
    """Credentials of an account."""


@keys_group.command("create")
@click.argument("account_id", type=click.UUID)
@click.option("--kind", type=click.Choice(["api", "basic"]), default="api", show_default=True)
@click.pass_context
def keys_create(ctx: click.Context, account_id: UUID, kind: str) -> None:
    """Issue a new credential (shown once): an API key, or Basic credentials for Kapture."""
    with _db(ctx) as database, database.write() as conn, _domain_errors():
        credential = accounts.issue_credential(conn, account_id, "basic" if kind == "basic" else "api")
    _print(credential.to_json())


@keys_group.command("revoke")
@click.argument("key_prefix")
@click.pass_context
def keys_revoke(ctx: click.Context, key_prefix: str) -> None:
    """Revoke a credential by its prefix; it stops working at once."""
    with _db(ctx) as database, database.write() as conn, _domain_errors():
        accounts.revoke_credential(conn, key_prefix)
    _print({"revoked": key_prefix})


@app.group("users")
def users_group() -> None:
    """Staff users of an account, who sign in to the workspace (docs/users.md)."""


def _user_json(user: User, password: str | None = None) -> dict[str, Any]:
    shown = {
        "id": str(user.id),
        "account_id": str(user.account_id),
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "active": user.active,
        "created_at": format_timestamp(user.created_at),
        "updated_at": format_timestamp(user.updated_at),
    }
    return shown | ({"password": password} if password is not None else {})


def _password_from_stdin(given: bool) -> str | None:
    """The password on the first line of stdin (its line ending dropped), if asked for:
    never a flag's value, which the shell's history and `ps` would show."""
    if not given:
        return None
    return sys.stdin.readline().rstrip("\r\n")


@users_group.command("create")
@click.argument("account_id", type=click.UUID)
@click.option("--email", required=True)
@click.option("--name", required=True, help="The name shown for the user.")
@click.option("--role", type=click.Choice(["manager", "sales"]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin; else one is made.")
@click.pass_context
def users_create(
    ctx: click.Context, account_id: UUID, email: str, name: str, role: str, password_stdin: bool
) -> None:
    """Add a user to an account; prints it with a generated password (shown once) unless
    --password-stdin gives one."""
    with _domain_errors():
        new = users.check_new_user(account_id, email, name, role)
        password = _password_from_stdin(password_stdin)
        with _db(ctx) as database, database.write() as conn:
            created = users.create_user(conn, new, password)
    _print(_user_json(created.user, created.password))


@users_group.command("list")
@click.argument("account_id", type=click.UUID)
@click.pass_context
def users_list(ctx: click.Context, account_id: UUID) -> None:
    """An account's users, as a JSON array (by email)."""
    with _db(ctx) as database, database.read() as conn, _domain_errors():
        found = users.list_users(conn, account_id)
    _print([_user_json(u) for u in found])


@users_group.command("deactivate")
@click.argument("user_id", type=click.UUID)
@click.pass_context
def users_deactivate(ctx: click.Context, user_id: UUID) -> None:
    """Stop a user signing in (at once); the user and their history stay."""
    _set_active(ctx, user_id, False)


@users_group.command("activate")
@click.argument("user_id", type=click.UUID)
@click.pass_context
def users_activate(ctx: click.Context, user_id: UUID) -> None:
    """Let a deactivated user sign in again, with the password they had."""
    _set_active(ctx, user_id, True)


def _set_active(ctx: click.Context, user_id: UUID, active: bool) -> None:
    with _db(ctx) as database, database.write() as conn, _domain_errors():
        user = users.set_active(conn, user_id, active)
    _print(_user_json(user))


@users_group.command("reset-password")
@click.argument("user_id", type=click.UUID)
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin; else one is made.")
@click.pass_context
def users_reset_password(ctx: click.Context, user_id: UUID, password_stdin: bool) -> None:
    """Give a user a new password (generated and shown once, unless --password-stdin gives
    one); the old one stops working at once."""
    password = _password_from_stdin(password_stdin)
    with _db(ctx) as database, database.write() as conn, _domain_errors():
        reset = users.reset_password(conn, user_id, password)
    _print(_user_json(reset.user, reset.password))


@app.group("opt-outs")
def opt_outs_group() -> None:
    """Customers and contacts marked do-not-contact: their leads are made but flagged, and
    no email or CRM delivery names them (docs/leads.md)."""


def _opt_out(
    ctx: click.Context, account_id: UUID, customer: UUID | None, contact: int | None, value: bool
) -> None:
    if (customer is None) == (contact is None):
        raise click.UsageError("give one of --customer or --contact")
    with _db(ctx) as database, database.write() as conn, _domain_errors():
        if customer is not None:
            optouts.mark_customer(conn, account_id, customer, value)
        else:
            assert contact is not None
            optouts.mark_contact(conn, account_id, contact, value)
    chosen = {"customer": str(customer)} if customer is not None else {"contact": contact}
    _print(chosen | {"do_not_contact": value})


_customer_option = click.option("--customer", type=click.UUID, help="A tracked customer's id (Recapture).")
_contact_option = click.option(
    "--contact", type=int, help="A contact's id (Autengo contact, Kapture customer)."
)


@opt_outs_group.command("set")
@click.argument("account_id", type=click.UUID)
@_customer_option
@_contact_option
@click.pass_context
def opt_outs_set(ctx: click.Context, account_id: UUID, customer: UUID | None, contact: int | None) -> None:
    """Mark a customer or contact do-not-contact (its leads so far are flagged too)."""
    _opt_out(ctx, account_id, customer, contact, True)


@opt_outs_group.command("clear")
@click.argument("account_id", type=click.UUID)
@_customer_option
@_contact_option
@click.pass_context
def opt_outs_clear(ctx: click.Context, account_id: UUID, customer: UUID | None, contact: int | None) -> None:
    """Lift a do-not-contact mark (its leads are no longer flagged)."""
    _opt_out(ctx, account_id, customer, contact, False)


@opt_outs_group.command("list")
@click.argument("account_id", type=click.UUID)
@click.pass_context
def opt_outs_list(ctx: click.Context, account_id: UUID) -> None:
    """The account's do-not-contact customers and contacts, as JSON."""
    with _db(ctx) as database, database.read() as conn, _domain_errors():
        require_account(conn, account_id)
        found = optouts.of_account(conn, account_id)
    _print({"customers": [str(c) for c in found.customers], "contacts": found.contacts})


@app.group("leads")
def leads_group() -> None:
    """An account's lead rules: settings and routing by origin (docs/leads.md)."""


@leads_group.command("settings")
@click.argument("account_id", type=click.UUID)
@click.option("--time-zone", help="IANA time zone of the daily digest (08:00 there), e.g. Australia/Sydney.")
@click.option("--unactioned-minutes", type=int, help="Minutes without action before a lead is reassigned.")
@click.option("--max-reassignments", type=int, help="Reassignments before managers are told.")
@click.option(
    "--lost-reason", "lost_reasons", multiple=True, help="A reason a lead may be lost for (repeat)."
)
@click.pass_context
def leads_settings(
    ctx: click.Context,
    account_id: UUID,
    time_zone: str | None,
    unactioned_minutes: int | None,
    max_reassignments: int | None,
    lost_reasons: tuple[str, ...],
) -> None:
    """Show, or change, an account's lead settings; prints them as JSON."""
    from forecourt.cli import leads

    given = {
        "time_zone": time_zone,
        "unactioned_minutes": unactioned_minutes,
        "max_reassignments": max_reassignments,
        "lost_reasons": lost_reasons or None,
    }
    with _db(ctx) as database, _domain_errors():
        _print(leads.settings(database, account_id, {k: v for k, v in given.items() if v is not None}))


@leads_group.command("route")
@click.argument("account_id", type=click.UUID)
@click.option("--origin", required=True, type=click.Choice(["sighting", "opportunity", "enquiry"]))
@click.option(
    "--user", "user_ids", type=click.UUID, multiple=True, help="A sales user's id (repeat); none: clear."
)
@click.pass_context
def leads_route(ctx: click.Context, account_id: UUID, origin: str, user_ids: tuple[UUID, ...]) -> None:
    """Send an origin's leads only to these sales users (none: to all active sales users)."""
    from forecourt.cli import leads

    with _db(ctx) as database, _domain_errors():
        _print(leads.route(database, account_id, origin, user_ids))


@app.group("crm")
def crm_group() -> None:
    """Where an account's new leads are delivered as ADF XML, and how that went (docs/leads.md)."""


@crm_group.command("add")
@click.argument("account_id", type=click.UUID)
@click.option("--name", required=True, help="What the operator calls the target.")
@click.option("--email", help="Send each lead's ADF document by email to this address.")
@click.option("--url", help="POST each lead's ADF document to this https URL.")
@click.pass_context
def crm_add(ctx: click.Context, account_id: UUID, name: str, email: str | None, url: str | None) -> None:
    """Add a CRM target to an account: its new leads from now on are delivered there."""
    from forecourt.cli.crm import target_json
    from forecourt.core.crm import service as crm

    with _db(ctx) as database, _domain_errors():
        checked = crm.check_target(name, email, url, _adapters(ctx, database).sender)
        with database.write() as conn:
            target = crm.add_target(conn, account_id, *checked)
    _print(target_json(target))


@crm_group.command("list")
@click.argument("account_id", type=click.UUID)
@click.pass_context
def crm_list(ctx: click.Context, account_id: UUID) -> None:
    """An account's CRM targets, as a JSON array (oldest first)."""
    from forecourt.cli.crm import target_json
    from forecourt.core.crm import service as crm

    with _db(ctx) as database, database.read() as conn, _domain_errors():
        found = crm.targets(conn, account_id)
    _print([target_json(t) for t in found])


@crm_group.command("remove")
@click.argument("target_id", type=click.UUID)
@click.pass_context
def crm_remove(ctx: click.Context, target_id: UUID) -> None:
    """Stop delivering to a target (at once), and drop its delivery log."""
    from forecourt.cli.crm import target_json
    from forecourt.core.crm import service as crm

    with _db(ctx) as database, database.write() as conn, _domain_errors():
        target = crm.remove_target(conn, target_id)
    _print(target_json(target) | {"removed": True})


@crm_group.command("deliveries")
@click.argument("account_id", type=click.UUID)
@click.option("--lead", "lead_id", type=click.UUID, help="Only this lead's deliveries.")
@click.pass_context
def crm_deliveries(ctx: click.Context, account_id: UUID, lead_id: UUID | None) -> None:
    """An account's ADF deliveries, newest first (the last 1000), as a JSON array."""
    from forecourt.cli.crm import delivery_json
    from forecourt.core.crm import service as crm

    with _db(ctx) as database, database.read() as conn, _domain_errors():
        found = crm.deliveries(conn, account_id, lead_id)
    _print([delivery_json(d) for d in found])


@app.group("registry")
def registry_group() -> None:
    """Registration data for the `file` registration lookup."""


@registry_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def registry_load(ctx: click.Context, file: Path) -> None:
    """Load a CSV of plate,state,vin[,vehicle_title] (a header line is optional)."""
    from forecourt.core.registry.service import load_csv

    with _db(ctx) as database, _domain_errors():
        loaded = load_csv(database, file)
    _print({"loaded": loaded, "file": str(file)})


@app.group("ingest-keys")
def ingest_keys_group() -> None:
    """Operator keys for pushing marketplace listings to /ingest/v1."""


@ingest_keys_group.command("create")
@click.pass_context
def ingest_keys_create(ctx: click.Context) -> None:
    """Issue a listing-feed key (shown once): send it as `Authorization: Bearer <key>`."""
    with _db(ctx) as database, database.write() as conn:
        key = accounts.issue_ingest_key(conn)
    _print({"key": key, "prefix": key.split("_")[1]})


@ingest_keys_group.command("revoke")
@click.argument("key_prefix")
@click.pass_context
def ingest_keys_revoke(ctx: click.Context, key_prefix: str) -> None:
    """Revoke a listing-feed key by its prefix; it stops working at once."""
    with _db(ctx) as database, database.write() as conn, _domain_errors():
        accounts.revoke_ingest_key(conn, key_prefix)
    _print({"revoked": key_prefix})


@app.group("listings")
def listings_group() -> None:
    """Marketplace listings."""


@listings_group.command("ingest")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=5000, show_default=True)
@click.option("--server", help="URL of a running Forecourt; without it, the local database is used.")
@click.option("--ingest-key", help="An ingest key (`forecourt ingest-keys create`), with --server.")
@click.pass_context
def listings_ingest(
    ctx: click.Context, file: Path, batch_size: int, server: str | None, ingest_key: str | None
) -> None:
    """Ingest a feed file (JSONL, or CSV with a header line) and match it; prints the counts
    and every rejected record (by the row a spreadsheet shows: the header is row 1)."""
    from forecourt.cli import listings

    if bool(server) != bool(ingest_key):
        raise click.UsageError("--server and --ingest-key go together")
    try:
        if server and ingest_key:
            with _domain_errors():
                report = listings.via_server(server, ingest_key, file, batch_size)
        else:
            with _db(ctx) as database, _domain_errors():
                report = listings.ingest_file(database, _adapters(ctx, database).event_body, file, batch_size)
    except (RuntimeError, httpx.HTTPError) as exc:
        raise click.ClickException(str(exc)) from None
    _print(msgspec.to_builtins(report))


@app.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--region", type=click.Choice(["au", "nz"]), required=True)
@click.option("--api-key", required=True, help="The account's API key.")
@click.option("--name", help="A name for the upload (default: the file name).")
@click.option("--enable-rego-lookups", is_flag=True, help="Look up VINs for plates without one.")
@click.option("--monitor-start-date", help="Default monitoring start for rows without one.")
@click.option("--monitor-end-date", help="Default monitoring end for rows without one.")
@click.option("--server", help="URL of a running Forecourt; without it, the local database is used.")
@click.pass_context
def upload(
    ctx: click.Context,
    file: Path,
    region: str,
    api_key: str,
    name: str | None,
    enable_rego_lookups: bool,
    monitor_start_date: str | None,
    monitor_end_date: str | None,
    server: str | None,
) -> None:
    """Upload a customer file (CSV, XLSX or JSON), follow it to the end, print its errors.

    \b
    The first row names the columns (a JSON file holds a list of objects):
      rego, state        the plate and, in au, its state (VIC, NSW, ...)
      vin                17 letters and digits
      external_id        the dealer's own id for the customer
      sale_date, monitor_start_date, monitor_end_date
                         YYYY-MM-DD, an ISO 8601 time, or an Excel date cell
      any other column   kept in additional_fields under its name
    Each row needs a rego (with its state in au) or a vin. Excel numbers shown
    with leading zeros (format 0000000000) keep them. Errors name the row as a
    spreadsheet shows it (the header is row 1). More: docs/uploads.md.
    """
    from forecourt.cli import upload as uploading
    from forecourt.core.uploads.files import read_customers

    with _domain_errors():
        customers, rows = read_customers(file.name, file.read_bytes())
    body = {
        "name": name or file.name,
        "enable_rego_lookups": enable_rego_lookups,
        "monitor_start_date": monitor_start_date,
        "monitor_end_date": monitor_end_date,
        "customers": customers,
    }
    try:
        if server:
            result = uploading.via_server(server, api_key, region, body)
        else:
            with _db(ctx) as database, _domain_errors():
                result = uploading.locally(
                    _settings(ctx), database, _adapters(ctx, database), api_key, parse_region(region), body
                )
    except (RuntimeError, httpx.HTTPError) as exc:
        raise click.ClickException(str(exc)) from None
    for error in result["errors"]:  # the API counts customers; a person looks for the file's row
        error["row"] = rows[error["row"] - 1]
    _print(result)


@app.group("inventory")
def inventory_group() -> None:
    """The dealer's stock (Autengo vehicles)."""


@inventory_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--account", "account_id", type=click.UUID, required=True, help="The account's id.")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=2000, show_default=True)
@click.pass_context
def inventory_import(ctx: click.Context, file: Path, account_id: UUID, batch_size: int) -> None:
    """Import vehicles (JSON array, JSONL, or CSV with a header line) in the Autengo vehicle
    schema. A known sellingId is replaced; prints the counts and every rejected record."""
    from forecourt.cli.inventory import import_file

    with _db(ctx) as database, _domain_errors():
        report = import_file(database, account_id, file, batch_size)
    _print(msgspec.to_builtins(report))


@app.command()
@click.option("--vehicles", "count", type=click.IntRange(1, 10_000_000), default=500, show_default=True)
@click.option("--account", "account_id", type=click.UUID, help="Fill this account (default: a new one).")
@click.option("--seed", type=int, default=1, show_default=True, help="The same seed, the same stock.")
@click.pass_context
def demo(ctx: click.Context, count: int, account_id: UUID | None, seed: int) -> None:
    """Fill an account with a realistic generated inventory. Without --account, a new
    "Demo dealer" account is created and its API key printed."""
    from forecourt.cli.inventory import fill_demo

    shown: dict[str, Any] = {}
    with _db(ctx) as database, _domain_errors():
        if account_id is None:
            with database.write() as conn:
                account, key = accounts.create_account(conn, "Demo dealer", "au")
            account_id = account.id
            shown = {"api_key": key.api_key}
        report = fill_demo(database, account_id, count, seed)
    _print({"account_id": str(account_id), **shown, "vehicles": report.created + report.updated})


@app.group("resources")
def resources_group() -> None:
    """The vehicle-check resources (Sync dialect) and which accounts use them."""


@resources_group.command("list")
@click.option("--account", "account_id", type=click.UUID, help="Show whether this account uses each.")
@click.pass_context
def resources_list(ctx: click.Context, account_id: UUID | None) -> None:
    """The resources this server runs (as configured), as a JSON array."""
    from forecourt.core.checks import service as checks

    with _db(ctx) as database, database.read() as conn:
        everything = _adapters(ctx, database).checkers
        using = {c.resource.key for c in checks.enabled(conn, account_id, everything)} if account_id else None
    _print(
        [
            camel_keys(msgspec.structs.asdict(c.resource))
            | ({"enabled": c.resource.key in using} if using is not None else {})
            for c in everything
        ]
    )


@resources_group.command("enable")
@click.argument("account_id", type=click.UUID)
@click.argument("key")
@click.pass_context
def resources_enable(ctx: click.Context, account_id: UUID, key: str) -> None:
    """Let an account's batches use a resource again (all are on by default)."""
    _switch_resource(ctx, account_id, key, on=True)


@resources_group.command("disable")
@click.argument("account_id", type=click.UUID)
@click.argument("key")
@click.pass_context
def resources_disable(ctx: click.Context, account_id: UUID, key: str) -> None:
    """Stop an account's batches using a resource (say, a paid one)."""
    _switch_resource(ctx, account_id, key, on=False)


def _switch_resource(ctx: click.Context, account_id: UUID, key: str, on: bool) -> None:
    from forecourt.core.checks import service as checks

    with _db(ctx) as database, database.write() as conn, _domain_errors():
        checks.switch(conn, account_id, key, on, _adapters(ctx, database).checkers)
    _print({"account_id": str(account_id), "resource": key, "enabled": on})
