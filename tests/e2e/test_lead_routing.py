"""Lead routing and its emails on both backends, end to end: listings ingested for tracked
vehicles open leads; the job worker (in-process, its clock moved by the test) routes them
round-robin weighted by each salesperson's open unactioned leads, emails the assignees
through a real SMTP server (aiosmtpd) with links into the workspace, reassigns what
nobody acted on, escalates to managers, sends each account's digest at 08:00 in its
time zone; a `forecourt worker` killed with kill -9 mid-pass assigns and emails each
lead once; the CLI's lead commands stay in their account."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from forecourt.config import Settings
from forecourt.core.contacts import service as contacts
from forecourt.core.contacts.schemas import Enquiry
from forecourt.core.leads import repository as lead_rows
from forecourt.core.leads import service as leads
from forecourt.core.leads.schemas import DEFAULT_LOST_REASONS, Actor, Lead
from forecourt.core.optouts import service as optouts
from forecourt.core.users import service as users
from forecourt.core.users.schemas import User
from forecourt.db import bulk
from forecourt.db.engine import Database
from forecourt.db.models import emails, jobs, lead_emails, lead_events, tracked_customers
from forecourt.db.models import leads as lead_table
from forecourt.kit.dates import utcnow
from forecourt.kit.ids import new_id
from tests.conftest import (
    VIN,
    Cli,
    MovableClock,
    Tenant,
    ingest_listings,
    listing_record,
    make_tenant,
    run_jobs,
    save_customer,
)
from tests.conftest import settings_for as base_settings
from tests.smtp import BOUNDED_WAIT, Mailbox, smtp_server

PUBLIC_URL = "https://leads.alpha.example/ws/"
SENDER = "Forecourt <leads@forecourt.example>"
FORECOURT_BIN = Path(sys.executable).with_name("forecourt")
WINDOW = 20 * 60  # the default unactioned_minutes, in seconds


@pytest.fixture
def smtp_url(mailbox: Mailbox) -> Iterator[str]:
    with smtp_server(mailbox) as port:
        yield f"smtp://127.0.0.1:{port}"


@pytest.fixture
def settings(database_url: str, smtp_url: str) -> Settings:
    return base_settings(database_url, smtp_url=smtp_url, mail_from=SENDER, public_url=PUBLIC_URL)


def staff(db: Database, tenant: Tenant, email: str, role: str = "sales") -> User:
    with db.write() as conn:
        return users.create_user(conn, users.check_new_user(tenant.account.id, email, email, role)).user


def sightings(db: Database, tenant: Tenant, *plates: str, prefix: str = "L") -> list[UUID]:
    """Tracked vehicles with these plates, then one listing batch naming them all: the
    leads it opened, in plate order."""
    for plate in plates:
        save_customer(db, tenant.account.id, rego=plate, state="NSW")
    records = [listing_record(f"{prefix}{plate}", plate=plate, state="NSW") for plate in plates]
    assert ingest_listings(db, *records).sightings == len(plates)
    with db.read() as conn:
        rows = conn.execute(
            sa.select(lead_table.c.id, tracked_customers.c.rego)
            .join(tracked_customers, tracked_customers.c.id == lead_table.c.tracked_customer_id)
            .where(lead_table.c.account_id == tenant.account.id)
        )
        found = {rego: lead_id for lead_id, rego in rows}
    return [found[plate] for plate in plates]


def lead(db: Database, tenant: Tenant, lead_id: UUID) -> Lead:
    with db.read() as conn:
        return leads.get(conn, tenant.account.id, lead_id)


def assignees(db: Database, tenant: Tenant, lead_ids: list[UUID]) -> dict[UUID, UUID | None]:
    return {lead_id: lead(db, tenant, lead_id).assignee_id for lead_id in lead_ids}


def timeline(db: Database, tenant: Tenant, lead_id: UUID, kind: str) -> list[dict[str, Any]]:
    with db.read() as conn:
        return [e.details for e in leads.timeline(conn, tenant.account.id, lead_id) if e.kind == kind]


def parts(message: EmailMessage) -> tuple[str, str]:
    found = {p.get_content_type(): p.get_content() for p in message.walk() if not p.is_multipart()}
    return found["text/plain"], found["text/html"]


def received(mailbox: Mailbox, to: str) -> list[EmailMessage]:
    return [message for _, message in mailbox.messages if message["To"] == to]


def linked(text: str) -> set[UUID]:
    return {
        UUID(found) for found in re.findall(r"https://leads\.alpha\.example/ws/leads/([0-9a-f-]{36})", text)
    }


def at_local(clock: MovableClock, zone: str, hour: int, minute: int = 0) -> None:
    """Move the clock forward to the next hour:minute in the zone."""
    here = clock.now().replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    target = here.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= here:
        target += timedelta(days=1)
    clock.advance((target - here).total_seconds())


def test_leads_are_routed_weighted_round_robin_emailed_reassigned_then_escalated(
    db: Database, tenant: Tenant, mailbox: Mailbox, settings: Settings, clock: MovableClock
) -> None:
    busy = staff(db, tenant, "busy@alpha.example")
    # Two leads already with `busy`, nobody acting on them: it is the others' turn next.
    earlier = sightings(db, tenant, "OLD001", "OLD002", prefix="E")
    run_jobs(db, settings, clock)
    assert set(assignees(db, tenant, earlier).values()) == {busy.id}
    ann, bob = staff(db, tenant, "ann@alpha.example"), staff(db, tenant, "bob@alpha.example")
    boss = staff(db, tenant, "boss@alpha.example", role="manager")
    mailbox.messages.clear()

    new = sightings(db, tenant, "NEW001", "NEW002", "NEW003", "NEW004")
    run_jobs(db, settings, clock)
    first = assignees(db, tenant, new)
    assert Counter(first.values()) == {ann.id: 2, bob.id: 2}  # busy had 2 already
    for lead_id, user_id in first.items():
        [assigned] = timeline(db, tenant, lead_id, "assigned")
        assert assigned == {"from": None, "to": str(user_id), "reason": "routing"}
    # One email to each assignee, naming both their leads, linking to each.
    for user in (ann, bob):
        [message] = received(mailbox, user.email)
        text, html = parts(message)
        mine = {lead_id for lead_id, user_id in first.items() if user_id == user.id}
        assert message["Subject"] == "2 leads for you"
        assert linked(text) == mine == linked(html)
        assert "NEW00" in text  # the plates: what the salesperson calls about
        for lead_id in mine:
            [sent] = timeline(db, tenant, lead_id, "email_sent")
            assert sent["to"] == str(user.id) and sent["about"] == "assigned"
    assert received(mailbox, busy.email) == [] and received(mailbox, boss.email) == []

    # Ann acts on one of hers (a note), Bob on one of his (a status): those stay put.
    acted = [next(lead_id for lead_id, u in first.items() if u == user.id) for user in (ann, bob)]
    with db.write() as conn:
        leads.add_note(
            conn, tenant.account.id, acted[0], "Left a message", Actor("user", ann.id), clock.now()
        )
        leads.change_status(
            conn, tenant.account.id, acted[1], "contacted", Actor("user", bob.id), clock.now()
        )
    everyone = new + earlier  # busy's two are as overdue as the rest
    idle = [lead_id for lead_id in everyone if lead_id not in acted]
    mailbox.messages.clear()

    clock.advance(WINDOW - 120)
    run_jobs(db, settings, clock)
    owners = assignees(db, tenant, everyone)
    assert {lead_id: owners[lead_id] for lead_id in new} == first  # not yet
    for turn in (1, 2):
        clock.advance(WINDOW + 60)
        mailbox.messages.clear()
        run_jobs(db, settings, clock)
        now = assignees(db, tenant, everyone)
        for lead_id in idle:
            assert now[lead_id] not in (None, owners[lead_id])  # someone else's now
            assert lead(db, tenant, lead_id).reassignments == turn
            assert timeline(db, tenant, lead_id, "assigned")[-1] == {
                "from": str(owners[lead_id]),
                "to": str(now[lead_id]),
                "reason": "unactioned",
            }
        for lead_id in acted:
            assert now[lead_id] == first[lead_id] and len(timeline(db, tenant, lead_id, "assigned")) == 1
        told = [message["To"] for _, message in mailbox.messages]
        assert sorted(told) == sorted({u.email for u in (busy, ann, bob) if u.id in {now[i] for i in idle}})
        for _, message in mailbox.messages:
            assert "reassigned to you" in message["Subject"].lower()
        owners = now

    # Out of reassignments (2 by default): the managers are told, once, and it stays put.
    clock.advance(WINDOW + 60)
    mailbox.messages.clear()
    run_jobs(db, settings, clock)
    [message] = received(mailbox, boss.email)
    text, html = parts(message)
    assert message["Subject"] == f"{len(idle)} leads nobody has acted on"
    assert linked(text) == set(idle) == linked(html)
    assert len(mailbox.messages) == 1
    for lead_id in idle:
        escalated = lead(db, tenant, lead_id)
        assert escalated.escalated_at is not None and escalated.assignee_id == owners[lead_id]
        assert timeline(db, tenant, lead_id, "escalated") == [{"reassignments": 2}]
        assert timeline(db, tenant, lead_id, "email_sent")[-1]["about"] == "escalated"
    clock.advance(3 * WINDOW)
    mailbox.messages.clear()
    run_jobs(db, settings, clock)
    assert mailbox.messages == []


def test_an_origin_with_a_rule_goes_only_to_its_users(
    db: Database, tenant: Tenant, cli: Cli, settings: Settings, clock: MovableClock
) -> None:
    ann, bob = staff(db, tenant, "ann@alpha.example"), staff(db, tenant, "bob@alpha.example")
    account = str(tenant.account.id)
    assert cli.ok("leads", "route", account, "--origin", "sighting", "--user", str(bob.id)) == {
        "account_id": account,
        "origin": "sighting",
        "users": [str(bob.id)],
    }
    first = sightings(db, tenant, "RUL001", "RUL002", "RUL003")
    enquiry = open_enquiry(db, tenant, "Cam Diaz", "cam@example.com")
    run_jobs(db, settings, clock)
    assert set(assignees(db, tenant, first).values()) == {bob.id}
    assert lead(db, tenant, enquiry).assignee_id == ann.id  # no rule: anyone; Ann has none yet

    assert cli.ok("leads", "route", account, "--origin", "sighting")["users"] == []  # cleared
    later = sightings(db, tenant, "RUL004", "RUL005", prefix="M")
    run_jobs(db, settings, clock)
    assert set(assignees(db, tenant, later).values()) == {ann.id}  # ann: 1 open, bob: 3


def open_enquiry(db: Database, tenant: Tenant, name: str, email: str, phone: str = "0412 345 678") -> UUID:
    with db.write() as conn:
        _, lead_id = contacts.add_update_customer(
            conn,
            tenant.account.id,
            {"name": name, "email": email, "phoneNumber": phone},
            None,
            Enquiry("Trade-in"),
        )
    assert lead_id is not None
    return lead_id


def test_without_a_sales_user_a_lead_waits_then_is_routed_by_the_sweep(
    db: Database, tenant: Tenant, mailbox: Mailbox, settings: Settings, clock: MovableClock
) -> None:
    manager = staff(db, tenant, "boss@alpha.example", role="manager")
    [waiting] = sightings(db, tenant, "WAIT01")
    run_jobs(db, settings, clock)
    assert lead(db, tenant, waiting).assignee_id is None
    clock.advance(3 * WINDOW)  # it is not reassigned or escalated: it has nobody yet
    run_jobs(db, settings, clock)
    assert lead(db, tenant, waiting).assignee_id is None and mailbox.messages == []

    ann = staff(db, tenant, "ann@alpha.example")
    clock.advance(61)  # the next sweep
    run_jobs(db, settings, clock)
    assert lead(db, tenant, waiting).assignee_id == ann.id
    [message] = received(mailbox, ann.email)
    assert message["Subject"] == "A lead for you: 2019 Toyota Camry Ascent Sport"
    assert linked(parts(message)[0]) == {waiting}
    assert received(mailbox, manager.email) == []


def test_assigning_by_hand_emails_the_new_assignee(
    db: Database, tenant: Tenant, mailbox: Mailbox, settings: Settings, clock: MovableClock
) -> None:
    ann = staff(db, tenant, "ann@alpha.example")
    [one] = sightings(db, tenant, "HAND01")
    run_jobs(db, settings, clock)
    bob = staff(db, tenant, "bob@alpha.example")
    boss = staff(db, tenant, "boss@alpha.example", role="manager")
    mailbox.messages.clear()
    with db.write() as conn:
        leads.assign(conn, tenant.account.id, one, bob.id, Actor("user", boss.id), clock.now(), public_url="")
    run_jobs(db, settings, clock)
    assert lead(db, tenant, one).assignee_id == bob.id
    assert timeline(db, tenant, one, "assigned")[-1] == {
        "from": str(ann.id),
        "to": str(bob.id),
        "reason": "by hand",
    }
    [message] = received(mailbox, bob.email)
    text, html = parts(message)
    # No public URL: no link, but how to find the lead.
    assert "leads.alpha.example" not in text + html and "<a " not in html
    assert f"under Leads by its reference {one}" in text
    assert len(mailbox.messages) == 1


def test_emails_about_a_do_not_contact_customer_name_nothing_of_them(
    db: Database, tenant: Tenant, mailbox: Mailbox, settings: Settings, clock: MovableClock
) -> None:
    ann = staff(db, tenant, "ann@alpha.example")
    customer = save_customer(db, tenant.account.id, rego="DNC001", state="NSW", vin=VIN)
    with db.write() as conn:
        optouts.mark_customer(conn, tenant.account.id, customer.id, True)
    ingest_listings(db, listing_record("DNC-LISTING", plate="DNC001", state="NSW"))
    party = open_enquiry(db, tenant, "Zoë <b>Bloggs</b>", "zoe@example.com", "0499 000 111")
    with db.write() as conn:
        found = lead_rows.get(conn, tenant.account.id, party)
        assert found is not None and found.party_id is not None
        optouts.mark_contact(conn, tenant.account.id, found.party_id, True)
    allowed = open_enquiry(db, tenant, "Al <i>Ok</i>", "al@example.com", "0400 111 222")
    run_jobs(db, settings, clock)

    [message] = received(mailbox, ann.email)
    text, html = parts(message)
    # The headers and the decoded parts (not the raw message: its random MIME boundary, or
    # a lead id in a link, may hold any short run of digits).
    everything = "".join(f"{name}: {value}\n" for name, value in message.items()) + text + html
    for secret in ("DNC001", "1N4AL11D16N337720", "DNC-LISTING", "Zoë", "Bloggs", "zoe@", "0499 000 111"):
        assert secret not in everything
    assert text.count("a do-not-contact customer") == 2
    # The lead that may be contacted is named, escaped in the HTML.
    assert "Al <i>Ok</i>" in text and "Al &lt;i&gt;Ok&lt;/i&gt;" in html and "<i>" not in html
    assert linked(text) == {party, allowed, *sightings_of(db, tenant)}


def sightings_of(db: Database, tenant: Tenant) -> set[UUID]:
    with db.read() as conn:
        return set(
            conn.scalars(
                sa.select(lead_table.c.id).where(
                    lead_table.c.account_id == tenant.account.id, lead_table.c.origin == "sighting"
                )
            )
        )


def _set(db: Database, lead_id: UUID, **values: Any) -> None:
    with db.write() as conn:
        conn.execute(sa.update(lead_table).where(lead_table.c.id == lead_id).values(**values))


def test_the_daily_digest_goes_at_8_local_once_a_day_with_each_accounts_own_numbers(
    db: Database, tenant: Tenant, cli: Cli, mailbox: Mailbox, settings: Settings, clock: MovableClock
) -> None:
    other = make_tenant(db, "Beta Cars")
    alpha_boss = staff(db, tenant, "boss@alpha.example", role="manager")
    beta_boss = staff(db, other, "boss@beta.example", role="manager")
    cli.ok("leads", "settings", str(tenant.account.id), "--time-zone", "Australia/Sydney")
    cli.ok("leads", "settings", str(other.account.id), "--time-zone", "America/New_York")

    at_local(clock, "Australia/Sydney", 7, 58)
    sydney_day = clock.now().replace(tzinfo=UTC).astimezone(ZoneInfo("Australia/Sydney")).date()
    yesterday = datetime.combine(
        sydney_day - timedelta(days=1), datetime.min.time(), ZoneInfo("Australia/Sydney")
    )
    noon = yesterday.astimezone(UTC).replace(tzinfo=None) + timedelta(hours=12)
    # Alpha: 3 opened yesterday (one won, one lost yesterday), 1 the day before, open.
    made = [open_enquiry(db, tenant, f"Alpha {n}", f"a{n}@example.com") for n in range(4)]
    for lead_id in made[:3]:
        _set(db, lead_id, created_at=noon)
    _set(db, made[3], created_at=noon - timedelta(days=1))
    _set(db, made[0], status="won", closed_at=noon + timedelta(hours=1), first_actioned_at=noon)
    _set(db, made[1], status="lost", closed_at=noon + timedelta(hours=2), first_actioned_at=noon)
    # Beta: 5 open leads, none acted on.
    theirs = [open_enquiry(db, other, f"Beta {n}", f"b{n}@example.com") for n in range(5)]

    run_jobs(db, settings, clock)
    assert received(mailbox, alpha_boss.email) == []  # 07:58 in Sydney
    at_local(clock, "Australia/Sydney", 8, 0)
    run_jobs(db, settings, clock)
    [digest] = received(mailbox, alpha_boss.email)
    text, html = parts(digest)
    assert digest["Subject"] == "Leads at Alpha Motors: 3 new yesterday, 2 waiting"
    for line in (
        "New leads yesterday: 3",
        "nobody has acted on yet: 2",
        "Won yesterday: 1",
        "Lost yesterday: 1",
    ):
        assert line in text
    assert "https://leads.alpha.example/ws/leads" in text and "Beta" not in text + html
    assert received(mailbox, beta_boss.email) == []  # still night in New York

    clock.advance(3600)
    run_jobs(db, settings, clock)
    assert len(received(mailbox, alpha_boss.email)) == 1  # once a day
    at_local(clock, "America/New_York", 8, 0)
    new_york = ZoneInfo("America/New_York")
    their_day = clock.now().replace(tzinfo=UTC).astimezone(new_york).date() - timedelta(days=1)
    start = datetime.combine(their_day, datetime.min.time(), new_york).astimezone(UTC).replace(tzinfo=None)
    for n, lead_id in enumerate(theirs):  # two opened late yesterday in New York, three before
        _set(db, lead_id, created_at=start + timedelta(hours=23, minutes=59) - timedelta(days=n // 2))
    run_jobs(db, settings, clock)
    [beta_digest] = received(mailbox, beta_boss.email)
    assert "New leads yesterday: 2" in parts(beta_digest)[0]
    assert "nobody has acted on yet: 5" in parts(beta_digest)[0]
    assert "Alpha" not in beta_digest.as_string()
    at_local(clock, "Australia/Sydney", 8, 1)
    run_jobs(db, settings, clock)
    assert len(received(mailbox, alpha_boss.email)) == 2  # the next day's
    assert len(received(mailbox, beta_boss.email)) == 1


def test_kill_9_of_the_worker_mid_pass_assigns_and_emails_each_lead_once(
    db: Database, tenant: Tenant, mailbox: Mailbox, smtp_url: str, database_url: str, clock: MovableClock
) -> None:
    team = [staff(db, tenant, f"s{n}@alpha.example") for n in range(3)]
    count, batch = 400, 25
    with db.write() as conn:  # one source's batch of new leads, opened at once
        made = [new_id() for _ in range(count)]
        lead_rows.insert_columns(
            conn,
            {
                "id": made,
                "account_id": bulk.Same(tenant.account.id),
                "origin": bulk.Same("enquiry"),
                "created_at": bulk.Same(utcnow()),
            },
        )
        leads.opened(conn, [(lead_id, tenant.account.id) for lead_id in made], utcnow())

    env = {k: v for k, v in os.environ.items() if not k.startswith("FORECOURT_")}
    env.update(
        FORECOURT_DATABASE_URL=database_url,
        FORECOURT_SMTP_URL=smtp_url,
        FORECOURT_MAIL_FROM=SENDER,
        FORECOURT_WORKER_POLL_SECONDS="0.05",
        FORECOURT_LEAD_ROUTING_BATCH=str(batch),
    )
    worker = subprocess.Popen([str(FORECOURT_BIN), "worker"], env=env, stderr=subprocess.PIPE)

    def assigned() -> int:
        with db.read() as conn:
            return int(
                conn.scalar(
                    sa.select(sa.func.count())
                    .select_from(lead_table)
                    .where(lead_table.c.assignee_id.is_not(None))
                )
                or 0
            )

    try:
        deadline = datetime.now() + timedelta(seconds=BOUNDED_WAIT)
        while assigned() == 0 and worker.poll() is None and datetime.now() < deadline:
            pass
        worker.kill()  # the first batch is in: the pass is under way
        worker.wait(BOUNDED_WAIT)
    finally:
        if worker.poll() is None:
            worker.kill()
        _, log = worker.communicate(timeout=BOUNDED_WAIT)
    done = assigned()
    assert 0 < done < count, log.decode()
    assert done % batch == 0  # whole batches committed, nothing of the one in hand

    settings = base_settings(database_url, smtp_url=smtp_url, mail_from=SENDER, lead_routing_batch=batch)
    clock.advance(settings.job_lease_seconds + 1)  # the killed worker's lease expires
    run_jobs(db, settings, clock)
    with db.read() as conn:
        rows = conn.execute(sa.select(lead_table.c.id, lead_table.c.assignee_id)).all()
        events = Counter(
            conn.scalars(sa.select(lead_events.c.lead_id).where(lead_events.c.kind == "assigned"))
        )
        links = Counter(conn.scalars(sa.select(lead_emails.c.lead_id)))
        sent = Counter(
            conn.scalars(sa.select(lead_events.c.lead_id).where(lead_events.c.kind == "email_sent"))
        )
        statuses = Counter(conn.scalars(sa.select(emails.c.status)))
        left = conn.scalar(
            sa.select(sa.func.count())
            .select_from(jobs)
            .where(jobs.c.state != "done", jobs.c.kind == "leads.route")
        )
    assert len(rows) == count and all(assignee is not None for _, assignee in rows)
    assert set(events.values()) == {1} and len(events) == count  # each assigned once
    assert set(links.values()) == {1} and len(links) == count  # each named in one email
    assert set(sent.values()) == {1} and len(sent) == count
    assert statuses == {"sent": len(mailbox.messages)}
    assert len({message["Message-ID"] for _, message in mailbox.messages}) == len(mailbox.messages)
    per_user = Counter(assignee for _, assignee in rows)
    assert (
        set(per_user) == {user.id for user in team} and max(per_user.values()) - min(per_user.values()) <= 1
    )
    assert left == 0


def test_the_lead_commands_stay_in_their_account(db: Database, tenant: Tenant, cli: Cli) -> None:
    other = make_tenant(db, "Beta Cars")
    theirs = staff(db, other, "sam@beta.example")
    manager = staff(db, tenant, "boss@alpha.example", role="manager")
    account = str(tenant.account.id)
    for user in (theirs, manager):
        refused = cli.run("leads", "route", account, "--origin", "enquiry", "--user", str(user.id))
        assert refused.exit_code == 1 and "user" in refused.output, refused.output
    with db.read() as conn:
        assert lead_rows.routes(conn, tenant.account.id) == {}
    unknown = cli.run("leads", "settings", str(new_id()), "--unactioned-minutes", "5")
    assert unknown.exit_code == 1 and "No account" in unknown.output
    bad = cli.run("leads", "settings", account, "--time-zone", "Mars/Olympus")
    assert bad.exit_code == 1 and "time_zone" in bad.output
    assert cli.ok("leads", "settings", account) == {
        "account_id": account,
        "time_zone": "UTC",
        "unactioned_minutes": 20,
        "max_reassignments": 2,
        "lost_reasons": list(DEFAULT_LOST_REASONS),
    }
    changed = cli.ok(
        "leads",
        "settings",
        account,
        "--unactioned-minutes",
        "5",
        "--max-reassignments",
        "1",
        "--lost-reason",
        "price",
        "--lost-reason",
        "bought elsewhere",
    )
    assert (changed["unactioned_minutes"], changed["max_reassignments"], changed["lost_reasons"]) == (
        5,
        1,
        ["price", "bought elsewhere"],
    )
    assert cli.ok("leads", "settings", str(other.account.id))["unactioned_minutes"] == 20
