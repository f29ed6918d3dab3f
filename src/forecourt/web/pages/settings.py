"""Settings, for managers (a salesperson gets 404 on every page here): the account's users,
lead routing, CRM targets, webhooks and their deliveries, API keys. The same use cases as
the operator's `forecourt users|leads|crm` commands and the Recapture webhook API, always
scoped to the manager's account: another account's user, target, webhook or key is 404.

A successful change redirects (303) back to its section with `?done=<what>` for the
message; a secret (a generated password, a webhook's signing secret, an API key) is shown
once, on the page that answers the POST that made it, and is never stored in clear."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any
from uuid import UUID
from zoneinfo import available_timezones

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from forecourt.core.accounts import service as accounts
from forecourt.core.accounts.schemas import IssuedCredential
from forecourt.core.crm import service as crm
from forecourt.core.leads import service as leads
from forecourt.core.leads.schemas import ORIGINS
from forecourt.core.users import service as users
from forecourt.core.users.schemas import ROLES, User
from forecourt.core.webhooks import service as webhooks
from forecourt.core.webhooks.schemas import WebhookFields
from forecourt.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from forecourt.web import paging
from forecourt.web.views import AdaptersDep, DbDep, Form, UserDep, formats, page, path_id, redirect

SECTIONS = ("users", "routing", "crm", "webhooks", "keys")
CRM_RECENT = 10  # deliveries shown under each CRM target
DELIVERIES_PAGE = 20  # a webhook's deliveries per page
DONE = frozenset(
    {"added", "saved", "activated", "deactivated", "removed", "pinged", "resent", "deleted", "revoked"}
)


@cache
def time_zones() -> list[str]:
    return sorted(zone for zone in available_timezones() if "/" in zone or zone == "UTC")


@contextmanager
def _theirs_is_not_found() -> Iterator[None]:
    """Another account's row is 404 in the workspace, as a missing one (the API says 403)."""
    try:
        yield
    except Forbidden:
        raise NotFound("Not found") from None


@dataclass(frozen=True)
class Refused:
    """A form the core refused, shown again (400) as it was sent, with the message next
    to the field: `errors` maps the field to which message (the templates hold the
    words, in the person's language)."""

    errors: dict[str, str]
    form: dict[str, str]

    @classmethod
    def of(cls, exc: InvalidInput | Conflict, form: dict[str, str]) -> Refused:
        field = exc.field
        if isinstance(exc, Conflict):
            problem = "taken"
        elif "public address" in exc.message:
            problem = "private"
        elif exc.message.startswith("give one of"):
            problem = "one_of"
        else:
            problem = "invalid"
        return cls({field: problem}, form)


def _section(
    request: Request[Any, Any, Any],
    manager: User,
    db: DbDep,
    template: str,
    status: int = 200,
    *,
    refused: Refused | None = None,
    form: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    """A section's page, with what every section shows (the account, its time zone), and
    its form: as `refused` (400), else as `form` gives it."""
    with db.read() as conn:
        account = accounts.require_account(conn, manager.account_id)
        zone = leads.settings(conn, manager.account_id).time_zone
    done = request.query_params.get("done")
    return page(
        request,
        f"settings/{template}.html",
        status=400 if refused else status,
        account=account,
        sections=SECTIONS,
        when=formats(request, zone).when,
        done=done if done in DONE else None,
        errors=refused.errors if refused else {},
        form=refused.form if refused else form or {},
        **context,
    )


@get("/settings", sync_to_thread=True)
def overview(request: Request[Any, Any, Any], manager: UserDep, db: DbDep) -> Template:
    return _section(request, manager, db, "overview")


# --- Users ---


def _users_page(
    request: Request[Any, Any, Any],
    manager: User,
    db: DbDep,
    refused: Refused | None = None,
    *,
    shown: tuple[User, str] | None = None,
    refused_self: bool = False,
) -> Template:
    with db.read() as conn:
        found = users.list_users(conn, manager.account_id)
    return _section(
        request,
        manager,
        db,
        "users",
        400 if refused_self else 200,
        refused=refused,
        form={"email": "", "name": "", "role": "sales"},
        users=found,
        roles=ROLES,
        shown=shown,
        refused_self=refused_self,
    )


@get("/settings/users", sync_to_thread=True)
def users_page(request: Request[Any, Any, Any], manager: UserDep, db: DbDep) -> Template:
    return _users_page(request, manager, db)


@post("/settings/users", sync_to_thread=True)
def add_user(request: Request[Any, Any, Any], manager: UserDep, db: DbDep, data: Form) -> Template | Redirect:
    """A new user of the account; the password the manager typed, or one generated and
    shown on the answer, once."""
    form = {key: data.get(key, "") for key in ("email", "name", "role")}
    password = data.get("password", "")
    try:
        new = users.check_new_user(manager.account_id, form["email"], form["name"], form["role"])
        with db.write() as conn:
            created = users.create_user(conn, new, password or None)
    except (InvalidInput, Conflict) as exc:
        return _users_page(request, manager, db, Refused.of(exc, form))
    if created.password is None:
        return redirect("/settings/users?done=added")
    return _users_page(request, manager, db, shown=(created.user, created.password))


@post("/settings/users/{user_id:str}/active", sync_to_thread=True)
def set_active(
    request: Request[Any, Any, Any], manager: UserDep, db: DbDep, data: Form, user_id: FromPath[str]
) -> Template | Redirect:
    active = data.get("active") == "true"
    try:
        with db.write() as conn:
            users.set_active(conn, path_id(user_id), active, account_id=manager.account_id, by=manager.id)
    except InvalidInput:  # themselves: said on the page
        return _users_page(request, manager, db, refused_self=True)
    return redirect(f"/settings/users?done={'activated' if active else 'deactivated'}")


@post("/settings/users/{user_id:str}/password", sync_to_thread=True)
def reset_password(
    request: Request[Any, Any, Any], manager: UserDep, db: DbDep, user_id: FromPath[str]
) -> Template:
    """A new generated password, shown once on this answer; the old one stops working."""
    with db.write() as conn:
        reset = users.reset_password(conn, path_id(user_id), account_id=manager.account_id)
    assert reset.password is not None
    return _users_page(request, manager, db, shown=(reset.user, reset.password))


# --- Lead routing ---


def _routing_page(
    request: Request[Any, Any, Any],
    manager: User,
    db: DbDep,
    refused: Refused | None = None,
) -> Template:
    with db.read() as conn:
        current = leads.settings(conn, manager.account_id)
        routes = leads.routes(conn, manager.account_id)
        sales = [user for user in users.list_users(conn, manager.account_id) if user.role == "sales"]
    shown = {
        "time_zone": current.time_zone,
        "unactioned_minutes": str(current.unactioned_minutes),
        "max_reassignments": str(current.max_reassignments),
        "lost_reasons": "\n".join(current.lost_reasons),
    }
    return _section(
        request,
        manager,
        db,
        "routing",
        refused=refused,
        form=shown,
        zones=time_zones(),
        origins=ORIGINS,
        routes=routes,
        sales=sales,
    )


@get("/settings/routing", sync_to_thread=True)
def routing_page(request: Request[Any, Any, Any], manager: UserDep, db: DbDep) -> Template:
    return _routing_page(request, manager, db)


def _whole_number(form: dict[str, str], name: str) -> int:
    try:
        return int(form[name].strip())
    except ValueError:
        raise InvalidInput(name, f"{name} must be a whole number") from None


@post("/settings/routing", sync_to_thread=True)
def save_routing(
    request: Request[Any, Any, Any], manager: UserDep, db: DbDep, adapters: AdaptersDep, data: Form
) -> Template | Redirect:
    """The account's lead settings (core/leads: configure), all fields at once."""
    form = {
        key: data.get(key, "")
        for key in ("time_zone", "unactioned_minutes", "max_reassignments", "lost_reasons")
    }
    try:
        changes = {
            "time_zone": form["time_zone"].strip(),
            "unactioned_minutes": _whole_number(form, "unactioned_minutes"),
            "max_reassignments": _whole_number(form, "max_reassignments"),
            "lost_reasons": tuple(form["lost_reasons"].splitlines()),
        }
        with db.write() as conn:
            now = adapters.clock.now()
            leads.configure(conn, manager.account_id, now, **changes)
            leads.start_sweep(conn, now)
    except InvalidInput as exc:
        return _routing_page(request, manager, db, Refused.of(exc, form))
    return redirect("/settings/routing?done=saved")


@post("/settings/routing/routes", sync_to_thread=True)
def save_routes(
    request: Request[Any, Any, Any], manager: UserDep, db: DbDep, adapters: AdaptersDep, data: Form
) -> Redirect:
    """Per origin, the sales users its leads go to: a checkbox `route:<origin>:<user id>`
    each (none ticked: every active sales user)."""
    chosen: dict[str, list[UUID]] = {origin: [] for origin in ORIGINS}
    for key in data:
        kind, _, rest = key.partition(":")
        origin, _, user_id = rest.partition(":")
        if kind == "route":
            if origin not in chosen:
                raise InvalidInput("origin", f"origin must be one of {', '.join(ORIGINS)}")
            try:
                chosen[origin].append(UUID(user_id))
            except ValueError:
                raise InvalidInput("user", "user is not a user id") from None
    with db.write() as conn:
        for origin, user_ids in chosen.items():
            leads.route_origin(conn, manager.account_id, origin, user_ids)
        leads.start_sweep(conn, adapters.clock.now())
    return redirect("/settings/routing?done=saved")


# --- CRM targets ---


def _crm_page(
    request: Request[Any, Any, Any],
    manager: User,
    db: DbDep,
    refused: Refused | None = None,
) -> Template:
    with db.read() as conn:
        found = [
            (target, crm.target_deliveries(conn, manager.account_id, target.id, CRM_RECENT))
            for target in crm.targets(conn, manager.account_id)
        ]
    return _section(
        request,
        manager,
        db,
        "crm",
        refused=refused,
        form={"name": "", "email": "", "url": ""},
        targets=found,
    )


@get("/settings/crm", sync_to_thread=True)
def crm_page(request: Request[Any, Any, Any], manager: UserDep, db: DbDep) -> Template:
    return _crm_page(request, manager, db)


@post("/settings/crm", sync_to_thread=True)
def add_target(
    request: Request[Any, Any, Any], manager: UserDep, db: DbDep, adapters: AdaptersDep, data: Form
) -> Template | Redirect:
    """A CRM target: an email address or an http(s) URL the server may call (the core's
    checks, SSRF guard included)."""
    form = {key: data.get(key, "") for key in ("name", "email", "url")}
    try:
        checked = crm.check_target(
            form["name"], form["email"].strip() or None, form["url"].strip() or None, adapters.sender
        )
        with db.write() as conn:
            crm.add_target(conn, manager.account_id, *checked)
    except InvalidInput as exc:
        return _crm_page(request, manager, db, Refused.of(exc, form))
    return redirect("/settings/crm?done=added")


@post("/settings/crm/{target_id:str}/remove", sync_to_thread=True)
def remove_target(manager: UserDep, db: DbDep, target_id: FromPath[str]) -> Redirect:
    with db.write() as conn:
        crm.remove_target(conn, path_id(target_id), manager.account_id)
    return redirect("/settings/crm?done=removed")


# --- Webhooks ---


def _webhooks_page(
    request: Request[Any, Any, Any],
    manager: User,
    db: DbDep,
    refused: Refused | None = None,
    *,
    secret: tuple[str, str] | None = None,
) -> Template:
    with db.read() as conn:
        found = webhooks.list_all(conn, manager.account_id, None)
    return _section(
        request,
        manager,
        db,
        "webhooks",
        refused=refused,
        form={"name": "", "endpoint": ""},
        webhooks=found,
        secret=secret,
    )


@get("/settings/webhooks", sync_to_thread=True)
def webhooks_page(request: Request[Any, Any, Any], manager: UserDep, db: DbDep) -> Template:
    return _webhooks_page(request, manager, db)


@post("/settings/webhooks", sync_to_thread=True)
def add_webhook(
    request: Request[Any, Any, Any], manager: UserDep, db: DbDep, adapters: AdaptersDep, data: Form
) -> Template:
    """A webhook in the account's region; its signing secret is shown on the answer, once."""
    form = {key: data.get(key, "") for key in ("name", "endpoint")}
    try:
        fields = webhooks.validate(
            WebhookFields(name=form["name"], endpoint=form["endpoint"]), adapters.sender
        )
        with db.write() as conn:
            account = accounts.require_account(conn, manager.account_id)
            created = webhooks.create(conn, manager.account_id, account.region, fields)
    except InvalidInput as exc:
        return _webhooks_page(request, manager, db, Refused.of(exc, form))
    return _webhooks_page(request, manager, db, secret=(created.webhook.name, created.secret))


def _webhook_page(
    request: Request[Any, Any, Any],
    manager: User,
    db: DbDep,
    webhook_id: str,
    *,
    status: int = 200,
    pending: bool = False,
) -> Template:
    number = paging.page_number(request.query_params)
    with db.read() as conn, _theirs_is_not_found():
        webhook = webhooks.get(conn, manager.account_id, webhook_id)
        found = webhooks.deliveries(
            conn, manager.account_id, webhook_id, offset=(number - 1) * DELIVERIES_PAGE, limit=DELIVERIES_PAGE
        )
    return _section(
        request,
        manager,
        db,
        "webhook",
        status,
        webhook=webhook,
        deliveries=found,
        number=number,
        page_count=paging.page_count(found.total, DELIVERIES_PAGE),
        pending=pending,
    )


@get("/settings/webhooks/{webhook_id:str}", sync_to_thread=True)
def webhook_page(
    request: Request[Any, Any, Any], manager: UserDep, db: DbDep, webhook_id: FromPath[str]
) -> Template:
    """A webhook's deliveries, newest first, a page at a time; re-send and ping here."""
    return _webhook_page(request, manager, db, webhook_id)


@post("/settings/webhooks/{webhook_id:str}/ping", sync_to_thread=True)
def ping(manager: UserDep, db: DbDep, adapters: AdaptersDep, webhook_id: FromPath[str]) -> Redirect:
    with db.write() as conn, _theirs_is_not_found():
        webhook = webhooks.get(conn, manager.account_id, webhook_id)
        webhooks.ping(conn, adapters.event_body, manager.account_id, webhook_id)
    return redirect(f"/settings/webhooks/{webhook.id}?done=pinged")


@post("/settings/webhooks/{webhook_id:str}/deliveries/{delivery_id:str}/resend", sync_to_thread=True)
def resend(
    request: Request[Any, Any, Any],
    manager: UserDep,
    db: DbDep,
    webhook_id: FromPath[str],
    delivery_id: FromPath[str],
) -> Template | Redirect:
    try:
        with db.write() as conn, _theirs_is_not_found():
            webhook = webhooks.get(conn, manager.account_id, webhook_id)
            webhooks.resend(conn, manager.account_id, webhook_id, delivery_id)
    except Conflict:  # still pending: said on the page
        return _webhook_page(request, manager, db, webhook_id, status=409, pending=True)
    return redirect(f"/settings/webhooks/{webhook.id}?done=resent")


@post("/settings/webhooks/{webhook_id:str}/delete", sync_to_thread=True)
def delete_webhook(manager: UserDep, db: DbDep, webhook_id: FromPath[str]) -> Redirect:
    with db.write() as conn, _theirs_is_not_found():
        webhooks.delete(conn, manager.account_id, webhook_id)
    return redirect("/settings/webhooks?done=deleted")


# --- API keys ---


def _keys_page(
    request: Request[Any, Any, Any], manager: User, db: DbDep, *, issued: IssuedCredential | None = None
) -> Template:
    with db.read() as conn:
        found = accounts.credentials(conn, manager.account_id)
    return _section(request, manager, db, "keys", credentials=found, issued=issued)


@get("/settings/keys", sync_to_thread=True)
def keys_page(request: Request[Any, Any, Any], manager: UserDep, db: DbDep) -> Template:
    return _keys_page(request, manager, db)


@post("/settings/keys", sync_to_thread=True)
def create_key(request: Request[Any, Any, Any], manager: UserDep, db: DbDep, data: Form) -> Template:
    """A new credential; its secret is on this answer and nowhere else, ever."""
    kind = data.get("kind", "")
    if kind not in ("api", "basic"):
        raise InvalidInput("kind", "kind must be api or basic")
    with db.write() as conn:
        issued = accounts.issue_credential(conn, manager.account_id, "api" if kind == "api" else "basic")
    return _keys_page(request, manager, db, issued=issued)


@get("/settings/keys/{prefix:str}/revoke", sync_to_thread=True)
def confirm_revoke(
    request: Request[Any, Any, Any], manager: UserDep, db: DbDep, prefix: FromPath[str]
) -> Template:
    """Revoking asks first: what uses the key stops working at once."""
    with db.read() as conn:
        credential = accounts.credential(conn, manager.account_id, prefix)
    if credential.revoked_at is not None:  # nothing left to revoke
        raise NotFound("Not found")
    return _section(request, manager, db, "revoke", credential=credential)


@post("/settings/keys/{prefix:str}/revoke", sync_to_thread=True)
def revoke(manager: UserDep, db: DbDep, prefix: FromPath[str]) -> Redirect:
    with db.write() as conn:
        accounts.revoke_credential(conn, prefix, manager.account_id)
    return redirect("/settings/keys?done=revoked")


ROUTES = [
    overview,
    users_page,
    add_user,
    set_active,
    reset_password,
    routing_page,
    save_routing,
    save_routes,
    crm_page,
    add_target,
    remove_target,
    webhooks_page,
    add_webhook,
    webhook_page,
    ping,
    resend,
    delete_webhook,
    keys_page,
    create_key,
    confirm_revoke,
    revoke,
]
