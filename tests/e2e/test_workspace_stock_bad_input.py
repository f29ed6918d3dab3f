"""The stock, contacts and checks pages answer bad input with a 400 page naming the field
or a 404, never a 5xx, the same on both backends (over HTTP, in-process)."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from forecourt.db.engine import Database
from tests.e2e.test_workspace import cheap_hashes, make_user, sign_in, web

__all__ = ["cheap_hashes", "web"]  # fixtures used here

ANSWERS = [
    ("/stock?km_from=abc", 400, "Kilometres from:"),
    ("/stock?km_to=-1", 400, "Kilometres to:"),
    ("/stock?price_from=1e5", 400, "Price from:"),
    ("/stock?price_to=99999999999999999999", 400, "Price to:"),
    ("/stock?km_from=%EF%BC%91", 400, "Kilometres from:"),  # a full-width digit
    ("/stock?make=Audi", 400, "Make:"),
    ("/stock?model=x", 400, "Model:"),
    ("/stock?fuel=steam", 400, "Fuel:"),
    ("/stock?state=SOLD", 400, "State:"),
    ("/stock?sort=random", 400, "Sort by:"),
    ("/stock?offset=99999999999", 400, "Page:"),
    ("/stock?km_from=%00", 400, "That did not work"),  # refused before the page, as anywhere
    ("/stock?offset=2147483647", 200, "There are no more vehicles."),
    ("/stock?make[]=1&unknown=2", 200, "No vehicles in stock yet."),  # not the form's: ignored
    ("/stock/models?make=99999999999999999999999", 200, "Choose a make first."),
    ("/contacts?q=%00", 400, "That did not work"),
    ("/contacts?q=" + "x" * 201, 400, "Search:"),
    ("/contacts?offset=x", 400, "Page:"),
    ("/contacts?offset=999999999999", 400, "Page:"),
    ("/contacts?q=%25_", 200, "No contact matches"),
    ("/contacts?q=ada&offset=1001", 400, "Page:"),  # a search's pages end at the 1,000th
    ("/contacts?q=%F4%8F%BF%BF", 200, "No contact matches"),  # the last character there is
    ("/contacts/99999999999999999999999", 404, "Page not found"),
    ("/contacts/-1", 404, "Page not found"),
    ("/contacts/abc", 404, "Page not found"),
    ("/checks?offset=-1", 400, "Page:"),
    ("/checks/not-a-batch", 404, "Page not found"),
    ("/checks/00000000-0000-0000-0000-000000000000", 404, "Page not found"),
]


@pytest.mark.parametrize(("path", "status", "said"), ANSWERS)
def test_bad_input_is_a_page_naming_the_field(
    web: TestClient[Litestar], db: Database, path: str, status: int, said: str
) -> None:
    make_user(db)
    assert sign_in(web).status_code == 303
    answer = web.get(path)
    assert (answer.status_code, said in answer.text) == (status, True), answer.text[-2000:]
