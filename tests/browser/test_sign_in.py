"""Signing in to the workspace, in chromium: a manager made with the CLI sees Today; a
wrong password; sign-out; CSRF; the idle timeout; deactivation; German."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Browser, Page, expect

from forecourt.kit.dates import utcnow
from tests.browser.conftest import (
    PASSWORD,
    Workspace,
    new_context,
    screenshot,
    serious_violations,
    sign_in,
)


def test_a_manager_made_with_the_cli_signs_in_and_sees_today(page: Page, workspace: Workspace) -> None:
    staff = workspace.user()
    other = workspace.user(email="sam@other.example", account="Beta Cars")
    now = utcnow()  # two leads of the account today, one two days ago, one elsewhere
    for at in (now, now - timedelta(minutes=5), now - timedelta(days=2, hours=1)):
        workspace.lead(staff, at)
    workspace.lead(other, now)

    page.goto("/")
    expect(page).to_have_url(f"{workspace.url}/login")
    assert serious_violations(page) == []
    screenshot(page, "login")

    sign_in(page, staff)
    expect(page).to_have_url(f"{workspace.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    expect(page.get_by_text(f"Hello {staff.name}, manager at Alpha Motors.")).to_be_visible()
    expect(page.get_by_test_id("new-leads")).to_have_text("2")
    expect(page.get_by_role("link", name="Today")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("Settings")).to_be_visible()  # a manager's
    assert serious_violations(page) == []


def test_a_wrong_password_shows_the_form_again_with_a_message(page: Page, workspace: Workspace) -> None:
    staff = workspace.user()
    sign_in(page, staff, password="not the password")
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password. Check both and try again.")
    expect(page).to_have_url(f"{workspace.url}/login")
    expect(page.get_by_label("Email")).to_have_value(staff.email)
    expect(page.get_by_label("Password")).to_have_value("")
    assert serious_violations(page) == []
    screenshot(page, "login-refused")


def test_sign_out_ends_the_session_and_back_shows_the_sign_in_page(page: Page, workspace: Workspace) -> None:
    sign_in(page, workspace.user())
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    cookie = next(c for c in page.context.cookies() if c["name"] == "forecourt_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]  # plain HTTP here

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{workspace.url}/login")
    page.go_back()
    expect(page).to_have_url(f"{workspace.url}/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")

    # The old token, put back into the browser, signs nobody in.
    page.context.add_cookies([{"name": "forecourt_session", "value": cookie["value"], "url": workspace.url}])
    page.goto("/")
    expect(page).to_have_url(f"{workspace.url}/login")


def test_a_form_posted_without_its_csrf_token_is_refused(page: Page, workspace: Workspace) -> None:
    sign_in(page, workspace.user())
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    forms: list[dict[str, str | float | bool]] = [{}, {"csrf": "forged"}]
    for form in forms:
        refused = page.request.post(f"{workspace.url}/logout", form=form, max_redirects=0)
        assert refused.status == 403
        assert "This form has expired" in refused.text()
    page.reload()  # still signed in: the forged sign-out did nothing
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")


def test_an_idle_session_ends_after_the_idle_timeout(page: Page, workspace: Workspace) -> None:
    sign_in(page, workspace.user())
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    for _ in range(2):  # used within the hour, twice: each use restarts the idle time
        workspace.clock.advance(59 * 60)
        page.reload()
        expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    left_open = page.context.new_page()
    left_open.goto("/")
    expect(left_open.get_by_role("heading", level=1)).to_have_text("Today")
    workspace.clock.advance(61 * 60)
    page.reload()
    expect(page).to_have_url(f"{workspace.url}/login")
    # Signing out from a page left open past the timeout lands on the sign-in page, not on
    # "this form has expired".
    left_open.get_by_role("button", name="Sign out").click()
    expect(left_open.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_a_deactivated_user_is_signed_out_at_the_next_request(page: Page, workspace: Workspace) -> None:
    staff = workspace.user()
    sign_in(page, staff)
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    workspace.cli.ok("users", "deactivate", staff.user_id)
    page.reload()
    expect(page).to_have_url(f"{workspace.url}/login")


def test_german_from_accept_language_and_from_the_language_switch(
    browser: Browser, workspace: Workspace
) -> None:
    staff = workspace.user(role="sales", name="Sam Verkauf")
    german = new_context(browser, workspace, locale="de-DE")
    page = german.new_page()
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmelden")
    page.get_by_label("E-Mail").fill(staff.email)
    page.get_by_label("Passwort").fill("falsch falsch falsch")
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("alert")).to_contain_text("E-Mail oder Passwort falsch")
    german.close()

    english = new_context(browser, workspace, locale="en-US")
    page = english.new_page()
    page.goto("/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.get_by_role("button", name="Deutsch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmelden")
    expect(page.get_by_role("button", name="Deutsch")).to_have_attribute("aria-pressed", "true")
    page.get_by_label("E-Mail").fill(staff.email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Heute")  # the choice stays
    expect(page.get_by_text("Hallo Sam Verkauf, Verkauf bei Alpha Motors.")).to_be_visible()
    expect(page.get_by_text("Seit gestern keine neuen Leads.", exact=False)).to_be_visible()
    expect(page.get_by_text("Einstellungen")).to_have_count(0)  # not a manager
    assert serious_violations(page) == []
    english.close()


def test_htmx_is_served_by_forecourt_and_its_writes_carry_the_csrf_token(
    page: Page, workspace: Workspace
) -> None:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("requestfailed", lambda request: problems.append(request.url))
    outside: list[str] = []
    page.on(
        "request",
        lambda request: None if request.url.startswith(workspace.url) else outside.append(request.url),
    )
    sign_in(page, workspace.user())
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    assert page.evaluate("htmx.version") == "2.0.11"
    # An htmx write (here: sign-out) sends the token from hx-headers on <body>.
    with page.expect_request("**/logout") as sent:
        page.evaluate("htmx.ajax('POST', '/logout', {source: document.body, target: 'body'})")
    assert sent.value.headers.get("x-csrf-token")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.goto("/")
    expect(page).to_have_url(f"{workspace.url}/login")
    assert problems == [] and outside == []  # nothing blocked by the page's policy, nothing fetched elsewhere
