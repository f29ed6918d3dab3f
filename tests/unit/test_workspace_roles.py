"""The workspace's role dependencies, which the pages to come take: `current_user` for
any signed-in user, `manager` for managers' pages (a salesperson is told 404)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

import pytest
from litestar import Request
from litestar.testing import RequestFactory

from forecourt.core.sessions.schemas import Session
from forecourt.core.users.schemas import Role, User
from forecourt.kit.errors import NotFound
from forecourt.web import auth, views

NOW = datetime(2026, 12, 1, 8)


def signed_in(role: Role | None) -> Request[Any, Any, Any]:
    request = RequestFactory().get("/settings")
    if role is None:
        request.state.session = None
    else:
        user = User(uuid4(), uuid4(), "jo@dealer.example", "Jo", role, True, NOW, NOW)
        request.state.session = Session("token", user, NOW, NOW)
    return request


def test_a_manager_page_is_a_managers() -> None:
    request = signed_in("manager")
    assert views.provide_manager(request).role == "manager"
    assert views.provide_current_user(request).role == "manager"


def test_to_a_salesperson_a_manager_page_does_not_exist() -> None:
    request = signed_in("sales")
    assert views.provide_current_user(request).role == "sales"
    with pytest.raises(NotFound):
        views.provide_manager(request)


def test_without_a_session_every_page_asks_to_sign_in() -> None:
    request = signed_in(None)
    for provide in (views.provide_current_user, views.provide_manager):
        with pytest.raises(auth.SignInRequired):
            provide(request)
