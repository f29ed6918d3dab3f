"""Forecourt's own API (/v1) over HTTP, in-process, on both backends: the lead list with
each filter and keyset paging while leads arrive, a lead with what it is about and its
timeline, the workflow through PATCH, notes and the first action, assignment, the users
list, the manager's numbers (worked out again here from the data the test made), tenant
isolation on every endpoint, and the failed sign-in lockout."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from forecourt.core.accounts import service as accounts
from forecourt.core.leads import service as leads
from forecourt.core.leads.schemas import API, Actor
from forecourt.core.users import passwords
from forecourt.core.users import service as users
from forecourt.core.users.schemas import User
from forecourt.db.engine import Database
from forecourt.kit.dates import utcnow
from tests.conftest import MovableClock, Tenant, ingest_listings, listing_record, put_customer
from tests.e2e.test_autengo_contacts import add_vehicle, post_opportunity
from tests.e2e.test_rate_limits import limited

DAY = datetime(2026, 3, 2, 9, 0)  # the leads these tests make by hand are created from here on
CHEAP = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "hasher", CHEAP)


def bearer(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.api_key}"}


def make_user(db: Database, tenant: Tenant, email: str, role: str = "sales", active: bool = True) -> User:
    with db.write() as conn:
        user = users.create_user(conn, users.check_new_user(tenant.account.id, email, email, role)).user
        if not active:
            user = users.set_active(conn, user.id, False)
    return user


def open_lead(db: Database, tenant: Tenant, origin: str = "enquiry", at: datetime = DAY) -> UUID:
    with db.write() as conn:
        return leads.open_one(conn, tenant.account.id, origin, at)


def act(db: Database, tenant: Tenant, lead_id: UUID, at: datetime, actor: Actor = API) -> None:
    """A person's first action on the lead at `at` (a note)."""
    with db.write() as conn:
        leads.add_note(conn, tenant.account.id, lead_id, "called", actor, at)


def assign(db: Database, tenant: Tenant, lead_id: UUID, user: User, at: datetime = DAY) -> None:
    with db.write() as conn:
        leads.assign(conn, tenant.account.id, lead_id, user.id, API, at, public_url="")


def move(
    db: Database, tenant: Tenant, lead_id: UUID, status: str, at: datetime, reason: str | None = None
) -> None:
    with db.write() as conn:
        leads.change_status(conn, tenant.account.id, lead_id, status, API, at, reason)


def listed(http: httpx.Client, tenant: Tenant, **params: Any) -> list[str]:
    response = http.get("/v1/leads", params=params, headers=bearer(tenant))
    assert response.status_code == 200, response.text
    return [lead["id"] for lead in response.json()["leads"]]


def ids(*lead_ids: UUID) -> list[str]:
    """Lead ids in the list's order: newest first (the tests make them in time order)."""
    return [str(lead_id) for lead_id in reversed(lead_ids)]


def refused(response: httpx.Response, status: int, field: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"code", "field", "message"}
    assert error["field"] == field, error
    assert error["message"]
    return error


# --- The list ---


def test_each_filter_of_the_list(http: httpx.Client, db: Database, tenant: Tenant) -> None:
    ann, bob = make_user(db, tenant, "ann@dealer.example"), make_user(db, tenant, "bob@dealer.example")
    sighting = open_lead(db, tenant, "sighting", DAY)
    opportunity = open_lead(db, tenant, "opportunity", DAY + timedelta(hours=1))
    enquiry = open_lead(db, tenant, "enquiry", DAY + timedelta(days=1))
    won = open_lead(db, tenant, "enquiry", DAY + timedelta(days=2))
    assign(db, tenant, sighting, ann)
    assign(db, tenant, enquiry, bob)
    assign(db, tenant, won, ann)
    move(db, tenant, opportunity, "contacted", DAY + timedelta(hours=2))
    move(db, tenant, won, "won", DAY + timedelta(days=3))

    assert listed(http, tenant) == ids(sighting, opportunity, enquiry, won)
    assert listed(http, tenant, status="new") == ids(sighting, enquiry)
    assert listed(http, tenant, status=["contacted", "won"]) == ids(opportunity, won)
    assert listed(http, tenant, status="contacted,won") == ids(opportunity, won)
    assert listed(http, tenant, origin="enquiry") == ids(enquiry, won)
    assert listed(http, tenant, origin="sighting,opportunity") == ids(sighting, opportunity)
    assert listed(http, tenant, assignee=str(ann.id)) == ids(sighting, won)
    assert listed(http, tenant, assignee=str(bob.id)) == ids(enquiry)
    assert listed(http, tenant, assignee="none") == ids(opportunity)
    assert listed(http, tenant, created_since="2026-03-03") == ids(enquiry, won)
    assert listed(http, tenant, created_until="2026-03-03") == ids(sighting, opportunity)
    # since is inclusive, until exclusive, to the microsecond; offsets are read as UTC
    assert listed(http, tenant, created_since="2026-03-02T10:00:00Z") == ids(opportunity, enquiry, won)
    assert listed(http, tenant, created_until="2026-03-02T20:00:00+10:00") == ids(sighting)
    assert listed(http, tenant, unactioned="true") == ids(sighting, enquiry)
    assert listed(http, tenant, unactioned="false") == ids(opportunity, won)
    # Filters together: all must hold.
    assert listed(http, tenant, origin="enquiry", assignee=str(ann.id), status="won") == ids(won)
    assert listed(http, tenant, origin="sighting", unactioned="false") == []


def test_paging_through_125_leads_while_new_ones_arrive_repeats_and_skips_none(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    made = []
    with db.write() as conn:
        for n in range(125):
            # Five leads share each instant: the page boundary falls inside such ties.
            at = DAY + timedelta(seconds=n // 5)
            made.append((at, leads.open_one(conn, tenant.account.id, "sighting", at)))
    expected = [str(lead_id) for _, lead_id in sorted(made, key=lambda m: (m[0], m[1]), reverse=True)]

    seen: list[str] = []
    late: list[str] = []  # made while paging, at the instant of some old leads
    due: list[str] = []  # those of them made while the cursor was still newer than them
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 12} | ({"cursor": cursor} if cursor else {})
        response = http.get("/v1/leads", params=params, headers=bearer(tenant))
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [lead["id"] for lead in page["leads"]]
        pages += 1
        # New leads keep arriving: now (newer than every page), and at the instant of
        # the old leads near the end of the list (their ids newer than those there).
        open_lead(db, tenant, "enquiry", utcnow())
        late.append(str(open_lead(db, tenant, "enquiry", DAY + timedelta(seconds=2))))
        if page["leads"][-1]["created_at"] > "2026-03-02T09:00:02.000Z":
            due.append(late[-1])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert [i for i in seen if i not in late] == expected  # each lead there at the start, in order
    assert len(seen) == len(set(seen))  # none twice
    assert pages > 125 // 12
    # Those made ahead of the cursor are listed in their place, the others not.
    assert len(due) > 5
    assert sorted(i for i in seen if i in late) == sorted(due)


def test_the_page_size_is_50_unless_asked_and_500_at_most(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    with db.write() as conn:
        for n in range(51):
            leads.open_one(conn, tenant.account.id, "enquiry", DAY + timedelta(seconds=n))

    first = http.get("/v1/leads", headers=bearer(tenant)).json()
    assert len(first["leads"]) == 50 and first["next_cursor"]
    assert len(http.get("/v1/leads", params={"limit": 500}, headers=bearer(tenant)).json()["leads"]) == 51
    refused(http.get("/v1/leads", params={"limit": 501}, headers=bearer(tenant)), 400, "limit")


# --- One lead ---


def test_a_sighting_lead_with_its_customer_listing_and_timeline(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    customer = put_customer(http, tenant, {"rego": "ABC123", "state": "VIC", "external_id": "CUST-9"})
    ingest_listings(db, listing_record("L9", plate="ABC123", state="VIC", price=31990))
    (lead_id,) = listed(http, tenant)

    response = http.get(f"/v1/leads/{lead_id}", headers=bearer(tenant))

    assert response.status_code == 200, response.text
    lead = response.json()
    assert (lead["id"], lead["origin"], lead["status"], lead["assignee_id"]) == (
        lead_id,
        "sighting",
        "new",
        None,
    )
    assert lead["created_at"].endswith("Z") and datetime.fromisoformat(lead["created_at"])
    about = lead["about"]
    assert about["customer"]["id"] == customer["id"]
    assert (about["customer"]["rego"], about["customer"]["state"], about["customer"]["external_id"]) == (
        "ABC123",
        "VIC",
        "CUST-9",
    )
    assert about["listing"]["url"] == "https://www.carsales.com.au/cars/details/L9/"
    assert about["listing"]["price"] == 31990
    assert about["listing"]["listed_at"] == "2022-08-15T14:23:01.000Z"
    assert about["party"] is None and about["vehicle"] is None
    assert [(e["kind"], e["actor"]) for e in lead["timeline"]] == [("created", "forecourt")]


def test_an_opportunity_lead_with_its_party_and_stock_vehicle(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    selling_id = add_vehicle(http, tenant)
    customer = {
        "firstName": "Jo",
        "lastName": "Citizen",
        "email": "jo@example.com",
        "phoneNumber": "0400111222",
    }
    assert post_opportunity(http, tenant, selling_id, customer).status_code == 200
    (lead_id,) = listed(http, tenant)

    lead = http.get(f"/v1/leads/{lead_id}", headers=bearer(tenant)).json()

    assert lead["origin"] == "opportunity"
    assert lead["message"]
    assert lead["about"]["party"] | {"id": 0} == {
        "id": 0,
        "name": "Jo Citizen",
        "email": "jo@example.com",
        "phone": "0400111222",
    }
    vehicle = lead["about"]["vehicle"]
    assert (vehicle["selling_id"], vehicle["make"], vehicle["model"]) == (selling_id, "Ford", "Focus")
    assert lead["about"]["customer"] is None and lead["about"]["listing"] is None


# --- The workflow through PATCH ---


def patch(http: httpx.Client, tenant: Tenant, lead_id: UUID | str, body: dict[str, Any]) -> httpx.Response:
    return http.patch(f"/v1/leads/{lead_id}", json=body, headers=bearer(tenant))


def test_a_lead_moved_through_the_workflow(http: httpx.Client, db: Database, tenant: Tenant) -> None:
    lead_id = open_lead(db, tenant, at=utcnow())

    contacted = patch(http, tenant, lead_id, {"status": "contacted"})
    assert contacted.status_code == 200, contacted.text
    first_action = contacted.json()["first_actioned_at"]
    assert contacted.json()["status"] == "contacted" and first_action

    won = patch(http, tenant, lead_id, {"status": "won"})
    assert won.status_code == 200, won.text
    assert (won.json()["status"], won.json()["first_actioned_at"]) == ("won", first_action)
    assert won.json()["closed_at"]

    error = refused(patch(http, tenant, lead_id, {"status": "new"}), 409, "status")
    assert error["code"] == "conflict" and "reopen" in error["message"]

    reopened = patch(http, tenant, lead_id, {"reopen": True})
    assert reopened.status_code == 200, reopened.text
    assert (reopened.json()["status"], reopened.json()["closed_at"]) == ("contacted", None)

    refused(patch(http, tenant, lead_id, {"status": "lost"}), 400, "reason")
    refused(patch(http, tenant, lead_id, {"status": "lost", "reason": "bored"}), 400, "reason")
    lost = patch(http, tenant, lead_id, {"status": "lost", "reason": "sold privately"})
    assert lost.status_code == 200, lost.text
    assert (lost.json()["status"], lost.json()["lost_reason"]) == ("lost", "sold privately")

    timeline = lost.json()["timeline"]
    assert [(e["kind"], e["actor"], e["details"].get("to")) for e in timeline] == [
        ("created", "forecourt", None),
        ("status_changed", "api", "contacted"),
        ("status_changed", "api", "won"),
        ("reopened", "api", "contacted"),
        ("status_changed", "api", "lost"),
    ]
    assert timeline[-1]["details"]["reason"] == "sold privately"
    assert http.get(f"/v1/leads/{lead_id}", headers=bearer(tenant)).json() == lost.json()


def test_changes_asked_together_are_made_all_or_none(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    ann = make_user(db, tenant, "ann@dealer.example")
    lead_id = open_lead(db, tenant, at=utcnow())
    move(db, tenant, lead_id, "won", utcnow())
    before = http.get(f"/v1/leads/{lead_id}", headers=bearer(tenant)).json()

    # Reopened, then lost without a reason: refused, and the reopen is undone with it.
    refused(
        patch(http, tenant, lead_id, {"reopen": True, "status": "lost", "assignee": str(ann.id)}),
        400,
        "reason",
    )
    assert http.get(f"/v1/leads/{lead_id}", headers=bearer(tenant)).json() == before

    done = patch(http, tenant, lead_id, {"reopen": True, "status": "appointment", "assignee": str(ann.id)})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["assignee_id"]) == ("appointment", str(ann.id))
    assert [e["kind"] for e in done.json()["timeline"]][-3:] == ["reopened", "status_changed", "assigned"]

    refused(patch(http, tenant, lead_id, {"reopen": True}), 409, "status")  # an open lead


def test_assigning_by_hand(http: httpx.Client, db: Database, tenant: Tenant, other_tenant: Tenant) -> None:
    ann = make_user(db, tenant, "ann@dealer.example")
    gone = make_user(db, tenant, "gone@dealer.example", active=False)
    stranger = make_user(db, other_tenant, "ann@dealer.example")
    lead_id = open_lead(db, tenant, at=utcnow())

    for user_id in (stranger.id, gone.id, uuid4()):
        error = refused(patch(http, tenant, lead_id, {"assignee": str(user_id)}), 400, "assignee")
        assert "active user of this account" in error["message"]
    refused(patch(http, tenant, lead_id, {"assignee": "ann"}), 400, "assignee")
    assigned = patch(http, tenant, lead_id, {"assignee": str(ann.id)})

    assert assigned.status_code == 200, assigned.text
    lead = assigned.json()
    assert (lead["assignee_id"], lead["status"]) == (str(ann.id), "new")
    assert lead["assigned_at"]
    assert lead["first_actioned_at"] is None  # handing a lead on is not acting on it
    assert lead["timeline"][-1]["details"] == {"from": None, "to": str(ann.id), "reason": "by hand"}
    assert listed(http, tenant, assignee=str(ann.id)) == [str(lead_id)]


# --- Notes ---


def test_a_note_is_on_the_timeline_and_the_first_one_is_the_first_action(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    lead_id = open_lead(db, tenant, at=utcnow())

    first = http.post(
        f"/v1/leads/{lead_id}/notes", json={"text": "  Left a voicemail  "}, headers=bearer(tenant)
    )
    second = http.post(f"/v1/leads/{lead_id}/notes", json={"text": "Called back"}, headers=bearer(tenant))

    assert first.status_code == 201, first.text
    note = first.json()
    assert (note["kind"], note["actor"], note["user_id"], note["details"]) == (
        "note_added",
        "api",
        None,
        {"text": "Left a voicemail"},
    )
    lead = http.get(f"/v1/leads/{lead_id}", headers=bearer(tenant)).json()
    assert lead["first_actioned_at"] == note["at"]  # the second note did not move it
    assert [e["id"] for e in lead["timeline"][1:]] == [note["id"], second.json()["id"]]
    assert listed(http, tenant, unactioned="false") == [str(lead_id)]
    for text in ("", "   ", "x" * 5001, "nul\x00"):
        refused(
            http.post(f"/v1/leads/{lead_id}/notes", json={"text": text}, headers=bearer(tenant)), 400, "text"
        )
    assert len(http.get(f"/v1/leads/{lead_id}", headers=bearer(tenant)).json()["timeline"]) == 3


# --- Users ---


def test_the_users_of_the_account(
    http: httpx.Client, db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    ann = make_user(db, tenant, "Ann@Dealer.example", role="manager")
    gone = make_user(db, tenant, "gone@dealer.example", active=False)
    make_user(db, other_tenant, "other@dealer.example")

    response = http.get("/v1/users", headers=bearer(tenant))

    assert response.status_code == 200, response.text
    assert response.json() == {
        "users": [
            {
                "id": str(ann.id),
                "email": "ann@dealer.example",
                "display_name": "Ann@Dealer.example",
                "role": "manager",
                "active": True,
            },
            {
                "id": str(gone.id),
                "email": "gone@dealer.example",
                "display_name": "gone@dealer.example",
                "role": "sales",
                "active": False,
            },
        ]
    }


# --- The numbers ---


def p90(values: list[float]) -> float:
    """The 90th percentile by linear interpolation between ranks (statistics' 'inclusive')."""
    return statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]


def test_the_managers_numbers(http: httpx.Client, db: Database, tenant: Tenant, other_tenant: Tenant) -> None:
    ann, bob = make_user(db, tenant, "ann@dealer.example"), make_user(db, tenant, "bob@dealer.example")
    # (origin, assignee, seconds to the first action or None, final status)
    plan = [
        ("sighting", ann, 60, "won"),
        ("sighting", ann, 300, "lost"),
        ("sighting", ann, 90, "contacted"),
        ("sighting", bob, 1200, "won"),
        ("sighting", None, None, "new"),
        ("opportunity", bob, 45, "lost"),
        ("opportunity", bob, 7, "appointment"),
        ("opportunity", ann, None, "new"),
        ("enquiry", ann, 3600, "won"),
        ("enquiry", None, 20, "contacted"),
        ("enquiry", bob, 86400, "won"),
    ]
    made = []
    for n, (origin, user, seconds, status) in enumerate(plan):
        created = DAY + timedelta(hours=n)
        lead_id = open_lead(db, tenant, origin, created)
        if user is not None:
            assign(db, tenant, lead_id, user, created)
        if seconds is not None:
            act(db, tenant, lead_id, created + timedelta(seconds=seconds))
        if status != "new":
            reason = "price" if status == "lost" else None
            move(db, tenant, lead_id, status, created + timedelta(days=2), reason)
        made.append((origin, user.id if user else None, seconds, status))
    # Outside the range, and another account's: in no figure.
    open_lead(db, tenant, "sighting", datetime(2026, 3, 1, 23, 59, 59))
    open_lead(db, tenant, "sighting", DAY + timedelta(days=1))
    act(db, other_tenant, open_lead(db, other_tenant, "sighting", DAY), DAY + timedelta(seconds=1))

    response = http.get(
        "/v1/stats", params={"since": "2026-03-02", "until": "2026-03-03"}, headers=bearer(tenant)
    )

    assert response.status_code == 200, response.text
    stats = response.json()
    assert (stats["since"], stats["until"], stats["leads"]) == (
        "2026-03-02T00:00:00.000Z",
        "2026-03-03T00:00:00.000Z",
        len(plan),
    )

    def expected(rows: list[tuple[Any, Any, Any, Any]]) -> dict[str, Any]:
        durations = [float(seconds) for _, _, seconds, _ in rows if seconds is not None]
        return {
            "actioned": len(durations),
            "unactioned": sum(seconds is None for _, _, seconds, _ in rows),
            "median_seconds": pytest.approx(statistics.median(durations)) if durations else None,
            "p90_seconds": pytest.approx(p90(durations), abs=0.001) if durations else None,
        }

    by_user = {row.pop("user_id"): row for row in stats["speed_to_lead"]["by_user"]}
    assert by_user == {
        str(user_id) if user_id else None: expected([m for m in made if m[1] == user_id])
        for user_id in (ann.id, bob.id, None)
    }
    assert list(by_user)[-1] is None  # the unassigned group last
    by_origin = {row.pop("origin"): row for row in stats["speed_to_lead"]["by_origin"]}
    assert by_origin == {
        origin: expected([m for m in made if m[0] == origin])
        for origin in ("sighting", "opportunity", "enquiry")
    }
    assert stats["by_status"] == {
        status: sum(m[3] == status for m in made)
        for status in ("new", "contacted", "appointment", "won", "lost")
    }
    rates = {row.pop("origin"): row for row in stats["won_rate_by_origin"]}
    for origin in ("sighting", "opportunity", "enquiry"):
        won = sum(m[0] == origin and m[3] == "won" for m in made)
        lost = sum(m[0] == origin and m[3] == "lost" for m in made)
        assert rates[origin] == {"won": won, "lost": lost, "rate": pytest.approx(won / (won + lost))}


def test_the_numbers_of_a_range_without_leads_and_the_default_range(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    now = utcnow()
    open_lead(db, tenant, "sighting", now - timedelta(days=31))
    recent = open_lead(db, tenant, "enquiry", now - timedelta(days=29))
    act(db, tenant, recent, now - timedelta(days=29) + timedelta(seconds=42))

    empty = http.get(
        "/v1/stats", params={"since": "2020-01-01", "until": "2020-02-01"}, headers=bearer(tenant)
    )
    default = http.get("/v1/stats", headers=bearer(tenant))

    assert empty.json()["leads"] == 0
    assert empty.json()["speed_to_lead"]["by_user"] == []
    assert {r["origin"]: r["rate"] for r in empty.json()["won_rate_by_origin"]} == dict.fromkeys(
        ("sighting", "opportunity", "enquiry")
    )
    assert default.json()["leads"] == 1  # the last 30 days
    (unassigned,) = default.json()["speed_to_lead"]["by_user"]
    assert unassigned == {
        "user_id": None,
        "actioned": 1,
        "unactioned": 0,
        "median_seconds": 42.0,
        "p90_seconds": 42.0,
    }


# --- Tenants and credentials ---


def test_another_accounts_key_sees_nothing_of_this_ones(
    http: httpx.Client, db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    ann = make_user(db, tenant, "ann@dealer.example")
    lead_id = open_lead(db, tenant, at=DAY)
    assign(db, tenant, lead_id, ann)
    act(db, tenant, lead_id, DAY + timedelta(seconds=5))
    before = http.get(f"/v1/leads/{lead_id}", headers=bearer(tenant)).json()
    theirs = bearer(other_tenant)

    not_found = [
        http.get(f"/v1/leads/{lead_id}", headers=theirs),
        http.patch(f"/v1/leads/{lead_id}", json={"status": "won"}, headers=theirs),
        http.patch(f"/v1/leads/{lead_id}", json={"assignee": str(ann.id)}, headers=theirs),
        http.post(f"/v1/leads/{lead_id}/notes", json={"text": "mine now"}, headers=theirs),
    ]
    unknown = http.get(f"/v1/leads/{uuid4()}", headers=theirs)

    for response in not_found:
        assert refused(response, 404, None) == refused(unknown, 404, None)  # the same as no lead at all
    assert http.get("/v1/leads", headers=theirs).json() == {"leads": [], "next_cursor": None}
    assert http.get("/v1/leads", params={"assignee": str(ann.id)}, headers=theirs).json()["leads"] == []
    assert http.get("/v1/users", headers=theirs).json() == {"users": []}
    stats = http.get("/v1/stats", params={"since": "2026-03-01"}, headers=theirs).json()
    assert stats["leads"] == 0 and stats["speed_to_lead"]["by_user"] == []
    assert set(stats["by_status"].values()) == {0}
    assert http.get(f"/v1/leads/{lead_id}", headers=bearer(tenant)).json() == before


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer fck_0123456789ab_wrong"},
        {"Authorization": "Basic YTpi"},
        {"ApiKey": "x"},
    ],
    ids=["none", "wrong key", "basic", "other header"],
)
def test_without_the_accounts_key_every_endpoint_is_401(http: httpx.Client, headers: dict[str, str]) -> None:
    lead = uuid4()
    for response in (
        http.get("/v1/leads", headers=headers),
        http.get(f"/v1/leads/{lead}", headers=headers),
        http.patch(f"/v1/leads/{lead}", json={"status": "won"}, headers=headers),
        http.post(f"/v1/leads/{lead}/notes", json={"text": "x"}, headers=headers),
        http.get("/v1/users", headers=headers),
        http.get("/v1/stats", headers=headers),
    ):
        assert refused(response, 401, None)["code"] == "unauthenticated"


def test_a_basic_credential_of_the_account_is_not_its_api_key(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    with db.write() as conn:
        issued = accounts.issue_credential(conn, tenant.account.id, "basic")
    response = http.get("/v1/leads", headers={"Authorization": f"Bearer {issued.basic_token}"})

    refused(response, 401, None)


def test_failed_sign_ins_lock_the_key_out(
    db: Database, database_url: str, tenant: Tenant, clock: MovableClock
) -> None:
    prefix = tenant.api_key.split("_")[1]
    wrong = {"Authorization": f"Bearer fck_{prefix}_not-the-secret"}
    with limited(database_url, db, clock, auth_failure_limit=2, auth_failure_window_seconds=600) as client:
        statuses = [client.get("/v1/leads", headers=wrong).status_code for _ in range(3)]
        locked = client.get("/v1/leads", headers=bearer(tenant))
        clock.advance(600)
        back = client.get("/v1/leads", headers=bearer(tenant))

    assert statuses == [401, 401, 429]
    assert refused(locked, 429, None)["code"] == "rate_limited"
    assert 0 < int(locked.headers["Retry-After"]) <= 600
    assert back.status_code == 200, back.text
