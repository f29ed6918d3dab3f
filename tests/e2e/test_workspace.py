"""The workspace over HTTP, in-process (the browser tests in tests/browser drive it in
chromium): cookies, CSRF, the sign-in lockout, the choice of account, roles on Today,
what the OpenAPI document shows, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from forecourt import bootstrap
from forecourt.core.accounts import service as accounts
from forecourt.core.leads import service as leads
from forecourt.core.leads.schemas import Actor
from forecourt.core.users import passwords
from forecourt.core.users import service as users
from forecourt.core.users.schemas import User
from forecourt.db.engine import Database
from forecourt.db.models import user_sessions
from forecourt.kit.dates import utcnow
from tests.conftest import settings_for

CHEAP = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "hasher", CHEAP)


def client(
    db: Database, database_url: str, base_url: str = "http://testserver.local", **settings: Any
) -> Any:
    app: Litestar = bootstrap.app(settings_for(database_url, **settings), db)
    test_client = TestClient(app, base_url=base_url)
    test_client.follow_redirects = False
    return test_client


@pytest.fixture
def web(db: Database, database_url: str) -> Iterator[TestClient[Litestar]]:
    with client(db, database_url) as c:
        yield c


def make_user(
    db: Database,
    role: str = "manager",
    email: str = "mia@dealer.example",
    account: str = "Alpha Motors",
    password: str = PASSWORD,
    name: str = "Mia",
) -> User:
    with db.write() as conn:
        found = [a for a in accounts.list_accounts(conn) if a.name == account]
        account_id = found[0].id if found else accounts.create_account(conn, account)[0].id
        return users.create_user(conn, users.check_new_user(account_id, email, name, role), password).user


def csrf_of(web: TestClient[Litestar], path: str = "/login") -> str:
    page = web.get(path)
    assert page.status_code == 200, page.text
    found = _CSRF.search(page.text)
    assert found
    return found.group(1)


def sign_in(
    web: TestClient[Litestar], email: str = "mia@dealer.example", password: str = PASSWORD, **extra: str
) -> Any:
    token = csrf_of(web)
    return web.post("/login", data={"csrf": token, "email": email, "password": password, **extra})


def test_sign_in_sets_an_httponly_lax_session_cookie_and_stores_only_its_digest(
    web: TestClient[Litestar], db: Database
) -> None:
    make_user(db)
    answer = sign_in(web)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("forecourt_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    with db.read() as conn:
        stored = [str(value) for row in conn.execute(sa.select(user_sessions)) for value in row]
    assert stored and not any(token in value for value in stored)
    today = web.get("/")
    assert today.status_code == 200 and today.headers["cache-control"] == "no-store"
    assert "Mia" in today.text


@pytest.mark.parametrize(
    ("base_url", "secure", "expected"),
    [
        ("https://testserver.local", "auto", True),
        ("http://testserver.local", "auto", False),
        ("http://testserver.local", "true", True),
        ("https://testserver.local", "false", False),
    ],
)
def test_cookies_are_secure_over_tls_or_as_set(
    db: Database, database_url: str, base_url: str, secure: str, expected: bool
) -> None:
    make_user(db)
    with client(db, database_url, base_url, session_cookie_secure=secure) as web:
        page = web.get("/login")
        assert ("Secure" in page.headers["set-cookie"]) is expected  # the CSRF cookie
        token = _CSRF.search(page.text)
        assert token
        answer = web.post(
            "/login", data={"csrf": token.group(1), "email": "mia@dealer.example", "password": PASSWORD}
        )
        if expected and base_url.startswith("http:"):
            assert answer.status_code == 403  # a Secure cookie is not sent back over plain HTTP
            return
        assert answer.status_code == 303
        assert ("Secure" in answer.headers["set-cookie"]) is expected


def test_writes_without_the_csrf_token_are_refused(web: TestClient[Litestar], db: Database) -> None:
    make_user(db)
    csrf_of(web)  # the CSRF cookie is set, but the forms below do not carry its token
    for path, form in [
        ("/login", {"email": "mia@dealer.example", "password": PASSWORD}),
        ("/login", {"email": "mia@dealer.example", "password": PASSWORD, "csrf": "x" * 43}),
        ("/language", {"language": "de"}),
    ]:
        answer = web.post(path, data=form)
        assert answer.status_code == 403, (path, answer.text)
        assert "This form has expired" in answer.text
        assert "forecourt_session" not in answer.headers.get("set-cookie", "")
    # Signed in, the token of the sign-in page no longer stands for the session's.
    assert sign_in(web).status_code == 303
    session_token = _CSRF.search(web.get("/").text)
    assert session_token
    assert web.post("/logout", headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert web.get("/").status_code == 200
    assert web.post("/logout", headers={"X-CSRF-Token": session_token.group(1)}).status_code == 303
    assert web.get("/").headers["location"] == "/login"


def test_repeated_wrong_passwords_lock_the_email_out_with_a_429_page(db: Database, database_url: str) -> None:
    make_user(db)
    with client(db, database_url, auth_failure_limit=2) as web:
        for _ in range(2):
            refused = sign_in(web, password="wrong wrong wrong")
            assert refused.status_code == 401
            assert "Wrong email or password" in refused.text
        locked = sign_in(web)  # even the right password, until the window passes
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) > 0
        assert "Too many attempts" in locked.text


def test_an_email_in_several_accounts_signs_in_where_its_password_is(
    web: TestClient[Litestar], db: Database
) -> None:
    make_user(db, account="Alpha Motors")
    make_user(db, account="Beta Cars", password="another good password")
    answer = sign_in(web, password="another good password")  # Beta's: no question asked
    assert answer.status_code == 303
    assert "Beta Cars" in web.get("/").text


def test_the_same_password_in_two_accounts_asks_which(web: TestClient[Litestar], db: Database) -> None:
    alpha = make_user(db, account="Alpha Motors")
    beta = make_user(db, account="Beta Cars")
    make_user(db, account="Gamma Autos", email="someone@else.example")
    asked = sign_in(web)
    assert asked.status_code == 200
    assert "belong to more than one dealer" in asked.text
    options = re.findall(r'<option value="([^"]+)">([^<]+)</option>', asked.text)
    assert sorted(options) == sorted(
        [(str(alpha.account_id), "Alpha Motors"), (str(beta.account_id), "Beta Cars")]
    )
    answer = sign_in(web, account=str(beta.account_id))
    assert answer.status_code == 303
    assert "Beta Cars" in web.get("/").text
    # An account the person is not on the staff of refuses as a wrong password does.
    web.cookies.clear()
    other = sign_in(web, account=str(UUID(int=1)))
    assert other.status_code == 401


def test_today_counts_the_accounts_new_leads_for_a_manager_and_their_own_for_sales(
    web: TestClient[Litestar], db: Database
) -> None:
    manager = make_user(db)
    sales = make_user(db, role="sales", email="sam@dealer.example", name="Sam")
    make_user(db, account="Beta Cars", email="bo@beta.example")
    now = utcnow()
    with db.write() as conn:
        mine = leads.open_one(conn, manager.account_id, "enquiry", now)
        leads.open_one(conn, manager.account_id, "opportunity", now - timedelta(hours=1))
        leads.open_one(conn, manager.account_id, "enquiry", now - timedelta(days=3))  # before yesterday
        beta = accounts.list_accounts(conn)[-1]
        leads.open_one(conn, beta.id, "enquiry", now)
        leads.assign(conn, manager.account_id, mine, sales.id, Actor("user", manager.id), now, public_url="")

    def count(page: str) -> str:
        found = re.search(r'data-testid="new-leads">(\d+)<', page)
        assert found, page
        return found.group(1)

    sign_in(web)
    page = web.get("/").text
    assert count(page) == "2" and 'href="/"' in page and "Settings" in page
    web.cookies.clear()
    sign_in(web, email="sam@dealer.example")
    page = web.get("/").text
    assert count(page) == "1" and "Settings" not in page


def test_signed_out_htmx_requests_are_sent_to_the_sign_in_page(web: TestClient[Litestar]) -> None:
    answer = web.get("/", headers={"HX-Request": "true"})
    assert answer.headers["hx-redirect"] == "/login"
    web.cookies.set("forecourt_session", "made-up")
    plain = web.get("/")
    assert plain.status_code == 303 and plain.headers["location"] == "/login"
    assert 'forecourt_session=""' in plain.headers["set-cookie"]  # the stale cookie is cleared


def test_the_language_switch_stays_on_this_site_and_refuses_unknown_languages(
    web: TestClient[Litestar],
) -> None:
    token = csrf_of(web)
    for going, lands in [("/login", "/login"), ("//evil.example/", "/"), ("https://evil.example/", "/")]:
        answer = web.post("/language", data={"csrf": token, "language": "de", "next": going})
        assert answer.status_code == 303 and answer.headers["location"] == lands
        assert "forecourt_language=de" in answer.headers["set-cookie"]
    german = web.get("/login")
    assert "<h1>Anmelden</h1>" in german.text and german.headers["content-language"] == "de"
    unknown = web.post("/language", data={"csrf": token, "language": "xx"})
    assert unknown.status_code == 400
    assert "Das hat nicht geklappt" in unknown.text


def test_the_pages_are_not_in_the_api_document_and_the_api_still_answers(web: TestClient[Litestar]) -> None:
    document = web.get("/docs/openapi.json").json()
    for path in ("/", "/login", "/logout", "/language"):
        assert path not in document["paths"]
    assert not any(path.startswith("/static") for path in document["paths"])
    assert web.get("/healthz").status_code == 200
    assert web.get("/v2/recapture/customers").status_code == 401  # the dialect's own answer
    htmx = web.get("/static/htmx.min.js")
    assert htmx.status_code == 200 and "max-age" in htmx.headers["cache-control"]
    assert web.get("/static/forecourt.css").status_code == 200
