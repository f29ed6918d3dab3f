"""The use cases the workspace's settings pages call, on both backends: each one acts only
inside the manager's account (another account's user, target, webhook delivery or key is
not found), a manager cannot deactivate themselves, a webhook delivery is re-sent as a
new delivery of the same body, and an account's keys are listed without secrets."""

from __future__ import annotations

from uuid import uuid4

import msgspec
import pytest
import sqlalchemy as sa

from forecourt.core.accounts import service as accounts
from forecourt.core.crm import service as crm
from forecourt.core.leads import service as leads
from forecourt.core.users import passwords
from forecourt.core.users import repository as users_repository
from forecourt.core.users import service as users
from forecourt.core.webhooks import service as webhooks
from forecourt.core.webhooks.schemas import WebhookEvent, WebhookFields
from forecourt.db.engine import Database
from forecourt.db.models import credentials, webhook_deliveries
from forecourt.kit.dates import utcnow
from forecourt.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.conftest import Tenant, make_user


def test_users_are_changed_only_within_the_account(
    db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    manager = make_user(db, tenant.account.id, "mia@alpha.example", role="manager")
    theirs = make_user(db, other_tenant.account.id, "sam@beta.example")
    with db.write() as conn:
        with pytest.raises(NotFound):
            users.set_active(conn, theirs.id, False, account_id=tenant.account.id)
        with pytest.raises(NotFound):
            users.reset_password(conn, theirs.id, account_id=tenant.account.id)
        with pytest.raises(InvalidInput) as refused:
            users.set_active(conn, manager.id, False, account_id=tenant.account.id, by=manager.id)
        assert refused.value.field == "user"
    with db.read() as conn:
        assert users.list_users(conn, other_tenant.account.id)[0].active  # untouched
        assert users.list_users(conn, tenant.account.id)[0].active

    sales = make_user(db, tenant.account.id, "sam@alpha.example")
    with db.write() as conn:
        assert not users.set_active(conn, sales.id, False, account_id=tenant.account.id, by=manager.id).active
        assert users.set_active(conn, sales.id, True, account_id=tenant.account.id, by=manager.id).active
        reset = users.reset_password(conn, sales.id, account_id=tenant.account.id)
    assert reset.password is not None and reset.user.id == sales.id


def test_a_password_reset_takes_effect_at_once(db: Database, tenant: Tenant) -> None:
    sales = make_user(db, tenant.account.id, "sam@alpha.example")
    with db.write() as conn:
        reset = users.reset_password(conn, sales.id, "a brand new password", account_id=tenant.account.id)
    assert reset.password is None  # chosen, not generated: not handed back
    with db.read() as conn:
        ((_, stored),) = [(u, h) for u, h in users_repository.for_email(conn, "sam@alpha.example")]
    assert passwords.verify("a brand new password", stored)[0]


def test_routes_are_read_per_origin(db: Database, tenant: Tenant) -> None:
    sam = make_user(db, tenant.account.id, "sam@alpha.example")
    with db.write() as conn:
        assert leads.routes(conn, tenant.account.id) == {}
        leads.route_origin(conn, tenant.account.id, "enquiry", [sam.id])
        assert leads.routes(conn, tenant.account.id) == {"enquiry": {sam.id}}


def test_crm_targets_are_removed_only_within_the_account(
    db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    with db.write() as conn:
        theirs = crm.add_target(conn, other_tenant.account.id, "Their CRM", "email", "crm@beta.example")
        ours = crm.add_target(conn, tenant.account.id, "Our CRM", "email", "crm@alpha.example")
        with pytest.raises(NotFound):
            crm.remove_target(conn, theirs.id, tenant.account.id)
        with pytest.raises(NotFound):
            crm.target_deliveries(conn, tenant.account.id, theirs.id, 10)
        leads.open_one(conn, tenant.account.id, "enquiry", utcnow())
    with db.read() as conn:
        (delivery,) = crm.target_deliveries(conn, tenant.account.id, ours.id, 10)
        assert delivery.status == "pending"
        assert [t.id for t in crm.targets(conn, other_tenant.account.id)] == [theirs.id]
    with db.write() as conn:
        assert crm.remove_target(conn, ours.id, tenant.account.id).id == ours.id
        assert crm.targets(conn, tenant.account.id) == []


def _render(event: WebhookEvent) -> bytes:
    return f'{{"id": "{event.id}", "type": "{event.type}"}}'.encode()


def test_a_webhook_delivery_is_resent_as_a_new_delivery_of_the_same_body(
    db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    fields = WebhookFields(name="CRM", endpoint="https://hooks.example/in")
    with db.write() as conn:
        hook = webhooks.create(conn, tenant.account.id, "au", fields).webhook
        first = webhooks.ping(conn, _render, tenant.account.id, str(hook.id))
        with pytest.raises(Conflict):  # still pending: the queue retries it already
            webhooks.resend(conn, tenant.account.id, str(hook.id), str(first))
        conn.execute(
            sa.update(webhook_deliveries)
            .where(webhook_deliveries.c.id == first)
            .values(status="failed", attempts=40, response_status=500)
        )
        again = webhooks.resend(conn, tenant.account.id, str(hook.id), str(first))
        for account, hook_id, delivery_id in (
            (other_tenant.account.id, str(hook.id), str(first)),  # another account's
            (tenant.account.id, str(hook.id), str(uuid4())),
            (tenant.account.id, str(hook.id), "not-an-id"),
        ):
            with pytest.raises((NotFound, Forbidden)):
                webhooks.resend(conn, account, hook_id, delivery_id)
    with db.read() as conn:
        page = webhooks.deliveries(conn, tenant.account.id, str(hook.id), offset=0, limit=10)
        rows = {r.id: r for r in conn.execute(sa.select(webhook_deliveries)).mappings()}
    assert page.total == 2
    assert {(d.id, d.status, d.attempts) for d in page.deliveries} == {
        (again, "pending", 0),
        (first, "failed", 40),  # the log keeps what happened to the first
    }
    assert rows[again]["body"] == rows[first]["body"] and rows[again]["event"] == "ping"


def test_credentials_are_listed_without_secrets_and_revoked_only_within_the_account(
    db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    with db.write() as conn:
        basic = accounts.issue_credential(conn, tenant.account.id, "basic")
        theirs = accounts.credentials(conn, other_tenant.account.id)[0]
        with pytest.raises(NotFound):
            accounts.revoke_credential(conn, theirs.prefix, tenant.account.id)
        accounts.revoke_credential(conn, basic.prefix, tenant.account.id)
        with pytest.raises(NotFound):  # once
            accounts.revoke_credential(conn, basic.prefix, tenant.account.id)
    with db.read() as conn:
        listed = accounts.credentials(conn, tenant.account.id)
        assert accounts.authenticate_api_key(conn, other_tenant.api_key).id == other_tenant.account.id
    assert [(c.kind, c.revoked_at is None) for c in listed] == [("api", True), ("basic", False)]
    assert listed[1].prefix == basic.prefix
    with db.read() as conn:
        assert accounts.credential(conn, tenant.account.id, basic.prefix) == listed[1]
        for prefix in (theirs.prefix, "0" * 12, "a\x00"):
            with pytest.raises(NotFound):
                accounts.credential(conn, tenant.account.id, prefix)
    # Nothing listed holds a secret or its stored hash, under any field's name.
    with db.read() as conn:
        hashes = set(conn.scalars(sa.select(credentials.c.secret_hash)))
    values = {str(v) for c in listed for v in msgspec.structs.asdict(c).values()}
    assert values.isdisjoint(hashes | {basic.secret, tenant.api_key.split("_", 2)[2]})
