"""The reads the workspace's stock, contacts and checks pages make, on both backends: the
makes and models in stock (the filter menus), a page of contacts (newest first, found by
the start of a name or a whole email or phone number), a contact's leads (a
salesperson's own only), a page of check batches with their progress, a batch's checks
by vehicle and resource; each account sees only its own."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from forecourt.core.checks import repository as check_rows
from forecourt.core.checks import service as checks
from forecourt.core.checks.schemas import BatchNotFound, CheckedVehicle, Outcome
from forecourt.core.contacts import service as contacts
from forecourt.core.contacts.schemas import ContactFields
from forecourt.core.inventory import reference
from forecourt.core.inventory import service as inventory
from forecourt.core.leads import service as leads
from forecourt.core.leads.schemas import API
from forecourt.db.engine import Database
from forecourt.kit.dates import utcnow
from forecourt.kit.errors import InvalidInput
from forecourt.kit.ids import new_id
from tests.conftest import Tenant, make_user


def _contact(db: Database, tenant: Tenant, **fields: str) -> int:
    with db.write() as conn:
        return contacts.create(conn, tenant.account.id, ContactFields(**fields)).id  # type: ignore[arg-type]


def _names(
    db: Database, tenant: Tenant, text: str | None, offset: int = 0, limit: int = 25
) -> tuple[list[str], bool]:
    with db.read() as conn:
        found, more = contacts.browse(conn, tenant.account.id, text, offset, limit)
    return [c.fields["name"] for c in found], more


def test_a_page_of_contacts_newest_first_found_by_name_email_or_phone(
    db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    _contact(
        db, tenant, first_name="Ada", last_name="Lovelace", email="Ada@Example.com", phone_number="+61 400 1"
    )
    for n in range(5):
        _contact(db, tenant, last_name=f"Buyer {n}")
    _contact(db, other_tenant, last_name="Ada Elsewhere", email="ada@example.com")

    assert _names(db, tenant, None, limit=3) == (["Buyer 4", "Buyer 3", "Buyer 2"], True)
    assert _names(db, tenant, "", offset=3, limit=3) == (["Buyer 1", "Buyer 0", "Ada Lovelace"], False)
    # A name is found by the start of the first name, the surname or the full name, any
    # case (the customers' rule, each from an index); not by a part within a word.
    for start in ("LOVE", "ada", "Ada Lovelace", "ada  love", "ada l"):
        assert _names(db, tenant, start) == (["Ada Lovelace"], False), start
    assert _names(db, tenant, "ovelace") == ([], False)  # mid-word: not found
    assert _names(db, tenant, "lovelace ada") == ([], False)
    assert _names(db, tenant, "buyer") == ([f"Buyer {n}" for n in range(5)], False)  # in name order
    assert _names(db, tenant, "Buyer", offset=3, limit=1) == (["Buyer 3"], True)
    assert _names(db, tenant, "Buyer 4") == (["Buyer 4"], False)
    assert _names(db, tenant, "\U0010ffff") == ([], False)  # the last character: no bound after it
    _contact(db, other_tenant, last_name="Özil")
    with db.read() as conn:  # a capital beyond ASCII as typed: SQLite's lower() keeps it
        assert [c.id for c in contacts.browse(conn, other_tenant.account.id, "ÖZ")[0]] != []
    assert _names(db, tenant, "ada@EXAMPLE.com") == (["Ada Lovelace"], False)  # stored in lower case
    assert _names(db, tenant, "+61 400 1") == (["Ada Lovelace"], False)
    assert _names(db, tenant, "example.com") == ([], False)  # an email must be whole
    assert _names(db, tenant, "50%_") == ([], False)  # no wildcards
    bad: list[tuple[str | None, int, int]] = [("x" * 201, 0, 25), ("a\x00b", 0, 25), (None, -1, 25)]
    bad += [(None, 0, 0), (None, 0, 101), ("ada", contacts.MAX_SEARCH_OFFSET + 1, 25)]
    for text, offset, limit in bad:
        with pytest.raises(InvalidInput), db.read() as conn:
            contacts.browse(conn, tenant.account.id, text, offset, limit)


def test_a_contacts_leads_newest_first_and_a_salespersons_own(
    db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    ada = _contact(db, tenant, first_name="Ada")
    now = utcnow()
    sam = make_user(db, tenant.account.id)
    with db.write() as conn:
        older = leads.open_one(
            conn, tenant.account.id, "enquiry", now - timedelta(days=1), party_id=ada, message="first"
        )
        newer = leads.open_one(conn, tenant.account.id, "opportunity", now, party_id=ada, message="second")
        leads.assign(conn, tenant.account.id, older, sam.id, API, now, public_url="http://forecourt.test")
    with db.read() as conn:
        every = contacts.leads_of(conn, tenant.account.id, ada, None)
        own = contacts.leads_of(conn, tenant.account.id, ada, sam.id)
        elsewhere = contacts.leads_of(conn, other_tenant.account.id, ada, None)
    assert [(lead.id, lead.origin, lead.message) for lead in every] == [
        (newer, "opportunity", "second"),
        (older, "enquiry", "first"),
    ]
    assert [lead.id for lead in own] == [older]
    assert elsewhere == []


def _batch(
    db: Database, tenant: Tenant, vehicles: list[CheckedVehicle], resources: tuple[int, ...] = (1, 3)
) -> UUID:
    with db.write() as conn:
        batch = new_id()
        check_rows.insert_batch(
            conn,
            batch,
            tenant.account.id,
            len(vehicles),
            [(r, v) for r in resources for v in vehicles],
            utcnow(),
        )
    return batch


def test_a_page_of_batches_with_their_progress_and_a_batchs_checks(
    db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    ford, plate_only = CheckedVehicle("1FAFP4041WF123456", ""), CheckedVehicle("", "ABC123")
    first = _batch(db, tenant, [plate_only, ford])
    second = _batch(db, tenant, [ford], resources=(1,))
    theirs = _batch(db, other_tenant, [ford])
    with db.read() as conn:
        work = check_rows.pending(conn, first, 1)
    with db.write() as conn:  # the VIN decoder's two checks of the first batch: one done, one failed
        checks.record(
            conn,
            tenant.account.id,
            work,
            [Outcome(None, [], "no VIN to decode"), Outcome(100, [{"manufacturer": "Ford"}])],
            last_try=True,
        )

    with db.read() as conn:
        page, more = checks.batches(conn, tenant.account.id, 0, 1)
        rest, no_more = checks.batches(conn, tenant.account.id, 1, 1)
        mine = checks.batches(conn, other_tenant.account.id)[0]
        batch, found, after = checks.batch_checks(conn, tenant.account.id, first, 0, 3)
        _, last, none_after = checks.batch_checks(conn, tenant.account.id, first, 3, 3)
        with pytest.raises(BatchNotFound):
            checks.batch_checks(conn, tenant.account.id, theirs)
        with pytest.raises(InvalidInput):
            checks.batches(conn, tenant.account.id, -1)
    assert ([b.id for b in page], more, [b.id for b in rest], no_more) == ([second], True, [first], False)
    assert [b.id for b in mine] == [theirs]
    progress = rest[0]
    assert (progress.checks, progress.done, progress.failed, progress.pending) == (4, 1, 1, 2)
    assert progress.finished_at is None and batch == progress
    # By vehicle (the bare plate's VIN "" first), then resource.
    assert [(c.vin, c.plate, c.resource_id) for c in found] == [
        ("", "ABC123", 1),
        ("", "ABC123", 3),
        (ford.vin, "", 1),
    ]
    assert after and not none_after and len(last) == 1
    assert found[2].status_id == 100 and found[2].result == [{"manufacturer": "Ford"}]
    assert found[0].status_id is None and found[0].error == "no VIN to decode"


def test_the_makes_and_models_in_stock_for_the_filter_menus(
    db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    stock = [
        ("Volkswagen", "Golf"),
        ("Volkswagen", "Passat"),
        ("Volkswagen", "Golf"),
        ("Audi", "A4"),
        ("Tatra", "T87"),  # a make the reference data lacks: no id
        ("Toyota", "Hilux Classic"),  # a model of a known make that it lacks
    ]
    with db.write() as conn:
        inventory.import_records(
            conn, tenant.account.id, enumerate(({"makeName": a, "modelName": b} for a, b in stock), 1)
        )
        inventory.import_records(conn, other_tenant.account.id, [(1, {"makeName": "BMW", "modelName": "X5"})])
    with db.read() as conn:
        makes, none = inventory.makes_and_models(conn, tenant.account.id, None)
        _, volkswagens = inventory.makes_and_models(conn, tenant.account.id, 570)
        _, toyotas = inventory.makes_and_models(conn, tenant.account.id, 560)
        everything = inventory.filter_values(conn, tenant.account.id, ["makeId"])["makeId"]
    assert makes == everything == [190, 560, 570]  # Audi, Toyota, Volkswagen; not the other's BMW
    assert none == [] and toyotas == []
    golf, passat = (reference.model_by_name(reference.make_by_id(570), n) for n in ("Golf", "Passat"))  # type: ignore[arg-type]
    assert volkswagens == [golf.model_id, passat.model_id]  # type: ignore[union-attr]
