"""Settings in chromium, as a manager uses them: users (added, signing in, deactivated,
reset), lead rules and routes, CRM targets, webhooks (a ping and a re-send reaching a
receiver on loopback), API keys (the secret shown once, working against the API, then
revoked). A salesperson gets 404 on every settings page, a manager 404 on another
account's objects, and every settings form without its CSRF token is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from uuid import UUID

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from forecourt.core.accounts import service as accounts
from forecourt.core.crm import service as crm
from forecourt.core.leads import service as leads
from forecourt.core.users import service as users
from forecourt.core.webhooks import service as webhooks
from forecourt.core.webhooks.schemas import WebhookFields
from tests.browser.conftest import (
    Staff,
    Workspace,
    new_context,
    screenshot,
    serious_violations,
    sign_in,
    sign_in_german,
)
from tests.conftest import loopback_server, loopback_url, run_jobs, settings_for

PAGES = (
    "/settings",
    "/settings/users",
    "/settings/routing",
    "/settings/crm",
    "/settings/webhooks",
    "/settings/keys",
)


def signed_in_manager(page: Page, workspace: Workspace) -> Staff:
    manager = workspace.user()
    sign_in(page, manager)
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    return manager


def field_error(page: Page, field: str) -> Any:
    return page.locator(f"#{field}-error")


def test_a_manager_adds_a_user_who_can_then_sign_in(page: Page, workspace: Workspace) -> None:
    manager = signed_in_manager(page, workspace)
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Settings")
    assert serious_violations(page) == []
    page.get_by_role("link", name="Users").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")

    form = page.locator("form[action='/settings/users']")
    # The browser takes "sam@dealer" for an address; Forecourt wants a dot in the domain.
    form.get_by_label("Email").fill("sam@dealer")
    form.get_by_label("Name", exact=True).fill("Sam Sales")
    form.get_by_role("button", name="Add user").click()
    expect(field_error(page, "email")).to_have_text("Enter an email address, like name@dealer.example.")
    expect(form.get_by_label("Name", exact=True)).to_have_value("Sam Sales")  # kept
    assert serious_violations(page) == []

    form.get_by_label("Email").fill(manager.email)  # taken
    form.get_by_role("button", name="Add user").click()
    expect(field_error(page, "email")).to_have_text("A user of this account already has this email.")

    form.get_by_label("Email").fill("Sam@Dealer.example")
    form.get_by_role("button", name="Add user").click()
    password = page.get_by_test_id("password").inner_text()
    assert len(password) >= 12
    row = page.get_by_role("row", name=re.compile("Sam Sales"))
    expect(row).to_contain_text("sam@dealer.example")
    expect(row).to_contain_text("Sales")
    expect(row).to_contain_text("Active")
    assert serious_violations(page) == []
    screenshot(page, "settings-users")
    page.goto("/settings/users")
    expect(page.get_by_test_id("password")).to_have_count(0)  # shown once

    # A manager cannot lock themselves out.
    page.get_by_role("button", name=f"Deactivate {manager.name}").click()
    expect(page.get_by_role("alert")).to_have_text("You cannot deactivate yourself. Another manager can.")

    # The new user signs in with the password they were given.
    sam = Staff(manager.account_id, manager.account_name, "", "sam@dealer.example", "Sam Sales")
    other = page.context.browser.new_context(base_url=workspace.url)  # type: ignore[union-attr]
    theirs = other.new_page()
    sign_in(theirs, sam, password)
    expect(theirs.get_by_role("heading", level=1)).to_have_text("Today")

    # Deactivated, they are signed out; reactivated, they sign in again; a reset password
    # replaces the old one.
    page.goto("/settings/users")
    page.get_by_role("button", name="Deactivate Sam Sales").click()
    expect(page.get_by_role("status")).to_have_text("The user is deactivated and signed out.")
    theirs.reload()
    expect(theirs).to_have_url(f"{workspace.url}/login")
    page.get_by_role("button", name="Reactivate Sam Sales").click()
    expect(page.get_by_role("status")).to_have_text("The user can sign in again.")
    page.get_by_role("button", name="Reset password for Sam Sales").click()
    fresh = page.get_by_test_id("password").inner_text()
    assert fresh != password
    sign_in(theirs, sam, password)
    expect(theirs.get_by_role("alert")).to_contain_text("Wrong email or password")
    sign_in(theirs, sam, fresh)
    expect(theirs.get_by_role("heading", level=1)).to_have_text("Today")
    other.close()


def test_a_manager_changes_the_lead_rules_and_routes(page: Page, workspace: Workspace) -> None:
    manager = signed_in_manager(page, workspace)
    page.goto("/settings/routing")
    expect(page.get_by_text("No salespeople yet.", exact=False)).to_be_visible()  # the empty state
    sam = workspace.colleague(manager)
    workspace.colleague(manager, "kim@dealer.example", "Kim Sales")
    page.reload()

    minutes = page.get_by_label("Minutes a lead may wait untouched", exact=False)
    expect(minutes).to_have_value("20")  # the default
    minutes.fill("soon")
    page.get_by_role("button", name="Save lead rules").click()
    expect(field_error(page, "unactioned_minutes")).to_have_text(
        "Enter a whole number of minutes from 1 to 10080 (a week)."
    )
    expect(minutes).to_have_attribute("aria-invalid", "true")
    minutes.fill("45")
    page.get_by_label("Times a lead is handed on", exact=False).fill("3")
    page.get_by_label("Reasons a lead may be lost for", exact=False).fill("price\nbought elsewhere\n")
    page.get_by_label("Time zone", exact=False).select_option("Australia/Sydney")
    page.get_by_role("button", name="Save lead rules").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    page.reload()
    expect(minutes).to_have_value("45")
    expect(page.get_by_label("Times a lead is handed on", exact=False)).to_have_value("3")
    expect(page.get_by_label("Reasons a lead may be lost for", exact=False)).to_have_value(
        "price\nbought elsewhere"
    )
    expect(page.get_by_label("Time zone", exact=False)).to_have_value("Australia/Sydney")

    enquiries = page.get_by_label("Enquiries (Kapture) to Sam Sales")
    enquiries.check()
    page.get_by_role("button", name="Save routes").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(enquiries).to_be_checked()
    expect(page.get_by_label("Enquiries (Kapture) to Kim Sales")).not_to_be_checked()
    with workspace.db.read() as conn:  # saved where routing reads it
        assert leads.routes(conn, UUID(manager.account_id))["enquiry"] == {UUID(sam.user_id)}
    assert serious_violations(page) == []
    screenshot(page, "settings-routing")


def test_a_manager_adds_and_removes_a_crm_target(page: Page, workspace: Workspace) -> None:
    signed_in_manager(page, workspace)
    page.goto("/settings/crm")
    expect(page.get_by_text("No CRM targets", exact=False)).to_be_visible()
    form = page.locator("form[action='/settings/crm']")
    form.get_by_label("Name").fill("Dealer CRM")
    form.get_by_label("Web address (URL)").fill("http://10.1.2.3/adf")  # not public, not allowed
    form.get_by_role("button", name="Add target").click()
    expect(field_error(page, "url")).to_contain_text("private network")
    form.get_by_label("Web address (URL)").fill("")
    form.get_by_label("Email address").fill("leads@crm.example")
    form.get_by_role("button", name="Add target").click()
    expect(page.get_by_role("status")).to_have_text("Added.")
    target = page.get_by_role("region", name="Dealer CRM")
    expect(target).to_contain_text("leads@crm.example")
    expect(target).to_contain_text("No deliveries yet")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Remove Dealer CRM").click()
    expect(page.get_by_role("status")).to_have_text("Removed.")
    expect(page.get_by_text("No CRM targets", exact=False)).to_be_visible()


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.handler = Handler


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    found = Receiver()
    with loopback_server(found.handler) as server:
        yield found, f"{loopback_url(server)}/hooks"


def test_a_webhook_is_added_pinged_and_a_delivery_resent(
    page: Page, workspace: Workspace, database_url: str, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    signed_in_manager(page, workspace)
    page.goto("/settings/webhooks")
    expect(page.get_by_text("No webhooks yet", exact=False)).to_be_visible()
    page.get_by_label("Name").fill("Our CRM")
    page.get_by_label("Address (URL)").fill(url)
    page.get_by_role("button", name="Add webhook").click()
    expect(page.get_by_test_id("secret")).to_contain_text("whsec_")
    page.get_by_role("button", name="Ping Our CRM").click()
    expect(page.get_by_role("status")).to_contain_text("A ping is on its way")
    expect(page.get_by_test_id("delivery")).to_contain_text("pending")

    settings = settings_for(database_url)
    assert run_jobs(workspace.db, settings, workspace.clock) == 1
    # No reload: the list refreshes itself while a delivery is pending (expect polls).
    delivery = page.get_by_test_id("delivery")
    expect(delivery).to_contain_text("delivered")
    expect(delivery.get_by_test_id("response-code")).to_have_text("202")
    assert len(got.bodies) == 1

    delivery.get_by_role("button", name="Re-send").click()
    expect(page.get_by_role("status")).to_contain_text("Sent again")
    expect(page.get_by_test_id("delivery").first).to_contain_text("pending")
    assert run_jobs(workspace.db, settings, workspace.clock) == 1
    expect(page.get_by_test_id("delivery")).to_have_count(2)
    expect(page.get_by_test_id("response-code")).to_have_text(["202", "202"])
    assert got.bodies == [got.bodies[0], got.bodies[0]]  # the same event again
    assert serious_violations(page) == []
    screenshot(page, "settings-webhooks")
    page.goto("/settings/webhooks")
    expect(page.get_by_test_id("secret")).to_have_count(0)  # shown once
    assert serious_violations(page) == []

    page.goto(page.get_by_role("link", name="Our CRM", exact=True).get_attribute("href") + "?page=zero")  # type: ignore[operator]
    expect(page.get_by_role("alert")).to_contain_text("page number")
    page.goto("/settings/webhooks")
    page.get_by_role("button", name="Delete Our CRM").click()
    expect(page.get_by_role("status")).to_have_text("Deleted.")
    expect(page.get_by_text("No webhooks yet", exact=False)).to_be_visible()


def test_an_api_key_is_shown_once_works_and_stops_working_when_revoked(
    page: Page, workspace: Workspace
) -> None:
    signed_in_manager(page, workspace)
    page.goto("/settings/keys")
    expect(page.get_by_role("row")).to_have_count(2)  # the account's first key, made with it
    page.get_by_label("Kind").select_option("api")
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_test_id("secret").inner_text()
    assert key.startswith("fck_")
    prefix = key.split("_")[1]
    api = httpx.Client(base_url=workspace.url, headers={"Authorization": f"Bearer {key}"})
    assert api.get("/v1/users").status_code == 200
    assert serious_violations(page) == []
    screenshot(page, "settings-keys")

    page.goto("/settings/keys")
    assert key.split("_", 2)[2] not in page.content()  # never shown again
    row = page.get_by_test_id(f"key-{prefix}")
    expect(row).to_contain_text("Active")
    row.get_by_role("link", name="Revoke").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Revoke key {prefix}")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Revoke the key").click()
    expect(page.get_by_role("status")).to_contain_text("Revoked.")
    expect(page.get_by_test_id(f"key-{prefix}")).to_contain_text("Revoked")
    assert api.get("/v1/users").status_code == 401
    api.close()


def test_a_salesperson_gets_404_on_every_settings_page(page: Page, workspace: Workspace) -> None:
    manager = workspace.user()
    sales = workspace.colleague(manager)
    beta = workspace.user(email="bo@beta.example", name="Bo Beta", account="Beta Cars")
    lead_id = workspace.lead(beta)  # another account's lead
    sign_in(page, sales)
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    expect(page.get_by_role("link", name="Settings")).to_have_count(0)
    for path in (
        *PAGES,
        f"/settings/keys/{'0' * 12}/revoke",
        f"/settings/webhooks/{UUID(int=1)}",
    ):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert serious_violations(page) == []
    # Another account's lead by URL (the leads pages are another part of the workspace).
    answer = page.request.get(f"{workspace.url}/leads/{lead_id}")
    assert answer.status == 404
    # Their writes too, with the page's own CSRF token.
    page.goto("/")
    token = page.locator("input[name=csrf]").first.get_attribute("value") or ""
    for path in ("/settings/users", f"/settings/users/{manager.user_id}/active", "/settings/keys"):
        answer = page.request.post(
            f"{workspace.url}{path}", form={"csrf": token, "active": "false", "kind": "api"}, max_redirects=0
        )
        assert answer.status == 404, path
    with workspace.db.read() as conn:
        assert all(user.active for user in users.list_users(conn, UUID(manager.account_id)))


def test_another_accounts_objects_are_404_to_a_manager(page: Page, workspace: Workspace) -> None:
    theirs = workspace.user(email="bo@beta.example", name="Bo Beta", account="Beta Cars")
    beta = UUID(theirs.account_id)
    with workspace.db.write() as conn:
        target = crm.add_target(conn, beta, "Beta CRM", "email", "crm@beta.example")
        hook = webhooks.create(
            conn, beta, "au", WebhookFields(name="Beta", endpoint="https://hooks.example/b")
        )
        delivery = webhooks.ping(conn, lambda event: b"{}", beta, str(hook.webhook.id))
        key = accounts.issue_credential(conn, beta, "api")
    signed_in_manager(page, workspace)
    for path in (f"/settings/webhooks/{hook.webhook.id}", f"/settings/keys/{key.prefix}/revoke"):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
    token = page.locator("input[name=csrf]").first.get_attribute("value") or ""
    for path in (
        f"/settings/users/{theirs.user_id}/active",
        f"/settings/users/{theirs.user_id}/password",
        f"/settings/crm/{target.id}/remove",
        f"/settings/webhooks/{hook.webhook.id}/ping",
        f"/settings/webhooks/{hook.webhook.id}/deliveries/{delivery}/resend",
        f"/settings/webhooks/{hook.webhook.id}/delete",
        f"/settings/keys/{key.prefix}/revoke",
        "/settings/keys/not-a-prefix/revoke",
        "/settings/users/not-an-id/active",
    ):
        answer = page.request.post(f"{workspace.url}{path}", form={"csrf": token}, max_redirects=0)
        assert answer.status == 404, path
        assert "Page not found" in answer.text()
    with workspace.db.read() as conn:  # nothing of theirs changed
        assert crm.targets(conn, beta) == [target]
        assert [c.revoked_at for c in accounts.credentials(conn, beta)] == [None, None]
        assert webhooks.deliveries(conn, beta, str(hook.webhook.id), offset=0, limit=10).total == 1
        assert users.list_users(conn, beta)[0].active


def test_every_settings_form_without_its_csrf_token_is_refused(page: Page, workspace: Workspace) -> None:
    manager = signed_in_manager(page, workspace)
    with workspace.db.write() as conn:
        hook = webhooks.create(
            conn, UUID(manager.account_id), "au", WebhookFields(name="A", endpoint="https://hooks.example/a")
        )
    page.goto("/settings/keys")
    prefix = page.locator("tbody th code").first.inner_text()
    forms: list[dict[str, str | float | bool]] = [{"kind": "api"}, {"kind": "api", "csrf": "forged"}]
    for path in (
        "/settings/users",
        f"/settings/users/{manager.user_id}/active",
        f"/settings/users/{manager.user_id}/password",
        "/settings/routing",
        "/settings/routing/routes",
        "/settings/crm",
        f"/settings/crm/{UUID(int=1)}/remove",
        "/settings/webhooks",
        f"/settings/webhooks/{hook.webhook.id}/ping",
        f"/settings/webhooks/{hook.webhook.id}/deliveries/{UUID(int=1)}/resend",
        f"/settings/webhooks/{hook.webhook.id}/delete",
        "/settings/keys",
        f"/settings/keys/{prefix}/revoke",
    ):
        for form in forms:
            refused = page.request.post(f"{workspace.url}{path}", form=form, max_redirects=0)
            assert refused.status == 403, path
            assert "This form has expired" in refused.text()
    page.goto("/settings/keys")
    expect(page.get_by_role("row")).to_have_count(2)  # no key made, none revoked
    expect(page.get_by_text("Active", exact=True)).to_have_count(1)


def test_the_settings_pages_in_german(browser: Browser, workspace: Workspace) -> None:
    manager = workspace.user()
    context = new_context(browser, workspace, locale="de-DE")
    page = context.new_page()
    sign_in_german(page, manager)
    page.get_by_role("link", name="Einstellungen").click()
    page.get_by_role("navigation", name="Einstellungen").get_by_role("link", name="Benutzer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Benutzer")
    page.get_by_role("button", name=f"Deaktivieren: {manager.name}").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Sie können sich nicht selbst deaktivieren. Ein anderer Manager kann das."
    )
    form = page.locator("form[action='/settings/users']")
    form.get_by_label("E-Mail").fill("sam@dealer")
    form.get_by_label("Name", exact=True).fill("Sam")
    form.get_by_role("button", name="Benutzer hinzufügen").click()
    expect(field_error(page, "email")).to_contain_text("Eine E-Mail-Adresse eingeben")
    assert serious_violations(page) == []
    page.goto("/settings/routing")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lead-Verteilung")
    assert serious_violations(page) == []
    context.close()


def test_bad_input_gets_a_4xx_page_never_a_5xx(page: Page, workspace: Workspace) -> None:
    manager = signed_in_manager(page, workspace)
    with workspace.db.write() as conn:
        hook = webhooks.create(
            conn, UUID(manager.account_id), "au", WebhookFields(name="A", endpoint="https://hooks.example/a")
        )
    token = page.locator("input[name=csrf]").first.get_attribute("value") or ""
    nul, long = "a\x00b", "x" * 5000
    posts: list[tuple[str, dict[str, str | float | bool], int]] = [
        ("/settings/users", {"email": nul, "name": "Sam", "role": "sales"}, 400),
        ("/settings/users", {"email": "s@d.example", "name": nul, "role": "sales"}, 400),
        ("/settings/users", {"email": "s@d.example", "name": "Sam", "role": "owner"}, 400),
        (
            "/settings/users",
            {"email": "s@d.example", "name": "Sam", "role": "sales", "password": nul * 6},
            400,
        ),
        ("/settings/users", {"email": "s@d.example", "name": long, "role": "sales"}, 400),
        (
            "/settings/routing",
            {"time_zone": nul, "unactioned_minutes": "5", "max_reassignments": "1", "lost_reasons": "x"},
            400,
        ),
        (
            "/settings/routing",
            {
                "time_zone": "../../etc/passwd",
                "unactioned_minutes": "5",
                "max_reassignments": "1",
                "lost_reasons": "x",
            },
            400,
        ),
        (
            "/settings/routing",
            {
                "time_zone": "UTC",
                "unactioned_minutes": "9" * 40,
                "max_reassignments": "1",
                "lost_reasons": "x",
            },
            400,
        ),
        (
            "/settings/routing",
            {"time_zone": "UTC", "unactioned_minutes": "5", "max_reassignments": "1", "lost_reasons": nul},
            400,
        ),
        (
            "/settings/routing",
            {"time_zone": "UTC", "unactioned_minutes": "5", "max_reassignments": "x", "lost_reasons": "a"},
            400,
        ),
        ("/settings/routing/routes", {"route:enquiry:not-an-id": "on"}, 400),
        ("/settings/routing/routes", {"route:walk-in:" + str(UUID(int=1)): "on"}, 400),
        ("/settings/routing/routes", {"route:enquiry:" + str(UUID(int=1)): "on"}, 400),
        ("/settings/routing/routes", {"route:enquiry:" + manager.user_id: "on"}, 400),  # a manager
        ("/settings/crm", {"name": nul, "email": "a@b.example"}, 400),
        ("/settings/crm", {"name": "C", "email": nul}, 400),
        ("/settings/crm", {"name": "C", "url": "http://a\x00b/"}, 400),
        ("/settings/crm", {"name": "C", "url": "ftp://crm.example/"}, 400),
        ("/settings/crm", {"name": "C", "email": "a@b.example", "url": "https://crm.example/"}, 400),
        ("/settings/webhooks", {"name": nul, "endpoint": "https://hooks.example/"}, 400),
        ("/settings/webhooks", {"name": "W", "endpoint": "https://[::1/"}, 400),
        ("/settings/webhooks", {"name": "W", "endpoint": "http://169.254.169.254/latest"}, 400),
        ("/settings/keys", {"kind": "root"}, 400),
        ("/settings/keys/%00/revoke", {}, 400),
        (f"/settings/webhooks/{hook.webhook.id}/deliveries/%00/resend", {}, 400),
        (f"/settings/users/{UUID(int=1)}/password", {}, 404),
    ]
    for path, form, status in posts:
        answer = page.request.post(f"{workspace.url}{path}", form=form | {"csrf": token}, max_redirects=0)
        assert answer.status == status, (path, form, answer.status)
    for path in (
        f"/settings/webhooks/{hook.webhook.id}?page=-1",
        f"/settings/webhooks/{hook.webhook.id}?page=99999999999",
    ):
        assert page.request.get(f"{workspace.url}{path}").status == 400, path
    assert page.request.get(f"{workspace.url}/settings/webhooks/{hook.webhook.id}?page=7").status == 200
