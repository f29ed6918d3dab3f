"""The workspace in a real browser: Debian's chromium driven by Playwright (never
`playwright install`: `make browser` installs the system package when it is missing),
against the real app served by uvicorn on a loopback socket, on SQLite and PostgreSQL.

Each test gets a fresh server over the emptied test database, with a clock it can move
(the session store reads time from it) and cheap password hashes. Screenshots are taken
only when FORECOURT_SCREENSHOTS names a folder (`make screenshots`)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Playwright, expect, sync_playwright
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from forecourt import bootstrap
from forecourt.cli.main import app as cli_app
from forecourt.core.accounts import service as accounts
from forecourt.core.customers.schemas import Customer
from forecourt.core.users import passwords
from forecourt.db.engine import Database
from tests.conftest import (
    Cli,
    MovableClock,
    make_user,
    open_lead,
    running_server,
    save_customer,
    settings_for,
)

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent.parent / "fixtures" / "axe" / "axe.min.js"
CHEAP = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: `make browser` installs Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    yield browser
    browser.close()


@dataclass(frozen=True)
class Staff:
    account_id: str
    account_name: str
    user_id: str
    email: str
    name: str


@dataclass
class Workspace:
    url: str
    clock: MovableClock
    cli: Cli
    db: Database

    def user(
        self,
        role: str = "manager",
        email: str = "mia@dealer.example",
        name: str = "Mia Manager",
        account: str = "Alpha Motors",
    ) -> Staff:
        """An account and a user of it, made with the CLI as an operator would."""
        account_id = self.cli.create_account(account)["id"]
        result = self.cli.runner.invoke(
            cli_app,
            [
                "--database-url",
                self.cli.database_url,
                "users",
                "create",
                account_id,
                "--email",
                email,
                "--name",
                name,
                "--role",
                role,
                "--password-stdin",
            ],
            input=PASSWORD + "\n",
        )
        assert result.exit_code == 0, result.output
        return Staff(account_id, account, json.loads(result.stdout)["id"], email, name)

    def colleague(
        self, of: Staff, email: str = "sam@dealer.example", name: str = "Sam Sales", role: str = "sales"
    ) -> Staff:
        """Another user of `of`'s account (a salesperson unless told), with the tests' password."""
        user = make_user(self.db, UUID(of.account_id), email, name, role, PASSWORD)
        return Staff(of.account_id, of.account_name, str(user.id), email, name)

    def customer(self, of: Staff, **fields: Any) -> Customer:
        """A tracked customer of `of`'s account (as the Recapture API puts one)."""
        return save_customer(self.db, UUID(of.account_id), **fields)

    def lead(self, of: Staff, at: datetime | None = None, origin: str = "enquiry", **more: Any) -> UUID:
        """A lead of `of`'s account: tests.conftest.open_lead."""
        return open_lead(self.db, UUID(of.account_id), at, origin, **more)

    def api_key(self, of: Staff) -> str:
        """A new API key of `of`'s account."""
        with self.db.write() as conn:
            return accounts.issue_credential(conn, UUID(of.account_id), "api").api_key


@contextmanager
def serving(
    db: Database,
    database_url: str,
    cli: Cli,
    clock: MovableClock,
    monkeypatch: pytest.MonkeyPatch,
    embedded_worker: bool = False,
    **settings: Any,
) -> Iterator[Workspace]:
    """The app on a loopback socket over the test database, with cheap password hashes;
    with `embedded_worker`, its worker thread too, as `forecourt serve` runs it."""
    monkeypatch.setattr(passwords, "hasher", CHEAP)
    chosen = settings_for(database_url, **settings)
    outside = bootstrap.adapters(chosen, db, clock)
    hooks: dict[str, Any] = {}
    if embedded_worker:
        worker = bootstrap.worker(chosen, db, outside)
        hooks = {"on_startup": [worker.start_thread], "on_shutdown": [worker.shutdown]}
    with running_server(bootstrap.app(chosen, db, outside, **hooks)) as url:
        yield Workspace(url, clock, cli, db)


@pytest.fixture
def workspace(
    db: Database, database_url: str, cli: Cli, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Workspace]:
    with serving(db, database_url, cli, clock, monkeypatch) as served:
        yield served


def new_context(browser: Browser, workspace: Workspace, locale: str = "en-GB") -> BrowserContext:
    # bypass_csp: the pages forbid inline scripts, and axe is injected as one.
    return browser.new_context(base_url=workspace.url, locale=locale, bypass_csp=True)


@pytest.fixture
def page(browser: Browser, workspace: Workspace) -> Iterator[Page]:
    context = new_context(browser, workspace)
    yield context.new_page()
    context.close()


def sign_in(page: Page, staff: Staff, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(staff.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in_german(page: Page, staff: Staff) -> None:
    """Signs in through the German form (the context's locale is de-DE) and lands on Heute."""
    page.goto("/login")
    page.get_by_label("E-Mail").fill(staff.email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Heute")


def row_cells(table: Locator, index: int) -> list[str]:
    """The texts of the cells (header cells too) of row `index` of a table's body."""
    return [text.strip() for text in table.locator("tbody tr").nth(index).locator("th, td").all_inner_texts()]


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations of WCAG 2.1 A/AA on the page."""
    page.add_script_tag(path=AXE)
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
                resultTypes: ['violations'],
            })).violations.map(v => ({
                id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')),
            }))"""
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def screenshot(page: Page, name: str) -> None:
    folder = os.environ.get("FORECOURT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=Path(folder) / f"{name}.png", full_page=True)
