"""What the lead emails say, with no I/O: a plain-text part and an HTML part of the same
words (every value escaped in the HTML), links into the workspace when the operator gave
its address (FORECOURT_PUBLIC_URL), and never a do-not-contact customer's details."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape
from typing import NamedTuple
from uuid import UUID

from forecourt.core.leads.schemas import DigestCounts, LeadSummary

LISTED = 20  # leads named in one email; the others are counted
DNC = "a do-not-contact customer"
ORIGIN_WORDS = {"sighting": "Recapture sighting", "opportunity": "opportunity", "enquiry": "enquiry"}


class Rendered(NamedTuple):
    subject: str
    text: str
    html: str


class Links:
    """Addresses in the workspace, or None when the public URL is not set."""

    def __init__(self, public_url: str) -> None:
        self.base = public_url.strip().rstrip("/")

    def lead(self, lead_id: UUID) -> str | None:
        return f"{self.base}/leads/{lead_id}" if self.base else None

    def leads(self) -> str | None:
        return f"{self.base}/leads" if self.base else None


def _find(lead_id: UUID) -> str:
    return f"find it in Forecourt's workspace under Leads by its reference {lead_id}"


def _facts(lead: LeadSummary) -> list[tuple[str, str]]:
    """(label, value) lines about one lead: only the vehicle of a do-not-contact lead."""
    facts = [("Lead", ORIGIN_WORDS.get(lead.origin, lead.origin))]
    if lead.vehicle:
        facts.append(("Vehicle", lead.vehicle))
    if lead.do_not_contact:
        return [*facts, ("Customer", f"{DNC} (do not call, text or email them)")]
    for label, value in (
        ("Customer", lead.customer),
        ("Contact", lead.contact),
        ("Plate", lead.plate),
        ("Listing", lead.listing_url),
        ("Message", lead.message),
    ):
        if value:
            facts.append((label, value[:500]))
    return facts


def _lead_text(lead: LeadSummary, links: Links) -> str:
    lines = [f"  {label}: {value}" for label, value in _facts(lead)]
    link = links.lead(lead.id)
    lines.append(f"  Open: {link}" if link else f"  To open it, {_find(lead.id)}.")
    return "\n".join(lines)


def _lead_html(lead: LeadSummary, links: Links) -> str:
    rows = "".join(f"<li>{escape(label)}: {escape(value)}</li>" for label, value in _facts(lead))
    link = links.lead(lead.id)
    opened = (
        f'<a href="{escape(link, quote=True)}">Open the lead</a>'
        if link
        else escape(f"To open it, {_find(lead.id)}.")
    )
    return f"<li><ul>{rows}</ul><p>{opened}</p></li>"


def _about_leads(intro: str, leads: Sequence[LeadSummary], total: int, links: Links) -> tuple[str, str]:
    """The body of an email about some leads: the first LISTED named, the rest counted."""
    shown = leads[:LISTED]
    text = [intro, ""] + [_lead_text(lead, links) + "\n" for lead in shown]
    html = [f"<p>{escape(intro)}</p><ol>", *(_lead_html(lead, links) for lead in shown), "</ol>"]
    if total > len(shown):
        more = f"and {total - len(shown)} more"
        where = links.leads()
        text.append(f"... {more}: " + (where if where else "see Leads in Forecourt's workspace") + ".")
        html.append(
            f'<p>... <a href="{escape(where, quote=True)}">{escape(more)}</a></p>'
            if where
            else f"<p>... {escape(more)}: see Leads in Forecourt's workspace.</p>"
        )
    return "\n".join(text).rstrip() + "\n", "".join(html)


def _page(body: str) -> str:
    return f'<!DOCTYPE html><html><body style="font-family: sans-serif">{body}</body></html>'


def assigned(
    leads: Sequence[LeadSummary], total: int, reason: str, unactioned_minutes: int, links: Links
) -> Rendered:
    """To the assignee: the leads just given to them (routing, unactioned elsewhere, by hand)."""
    again = reason == "unactioned"
    if total == 1:
        what = leads[0].vehicle or "a lead"
        subject = f"Reassigned to you: {what}" if again else f"A lead for you: {what}"
        intro = "This lead is yours now. Call the customer before anyone else does."
    else:
        subject = f"{total} leads reassigned to you" if again else f"{total} leads for you"
        intro = f"These {total} leads are yours now."
    if again:
        intro += f" Nobody acted on {'it' if total == 1 else 'them'} within {unactioned_minutes} minutes."
    text, html = _about_leads(intro, leads, total, links)
    return Rendered(subject, text, _page(html))


def escalated(leads: Sequence[LeadSummary], total: int, reassignments: int, links: Links) -> Rendered:
    """To each manager: leads that ran out of reassignments with nobody acting on them."""
    subject = "A lead nobody has acted on" if total == 1 else f"{total} leads nobody has acted on"
    intro = (
        f"{'This lead was' if total == 1 else 'These leads were'} reassigned {reassignments} times"
        " and nobody has acted on them yet. Please see that someone does."
    )
    text, html = _about_leads(intro, leads, total, links)
    return Rendered(subject, text, _page(html))


def digest(account_name: str, day: date, counts: DigestCounts, links: Links) -> Rendered:
    """To each manager at 08:00: yesterday's leads in numbers, and those waiting now."""
    when = day.strftime("%A %d %B %Y")
    subject = f"Leads at {account_name}: {counts.new} new yesterday, {counts.unactioned} waiting"
    lines = [
        ("New leads yesterday", counts.new),
        ("Open leads nobody has acted on yet", counts.unactioned),
        ("Won yesterday", counts.won),
        ("Lost yesterday", counts.lost),
    ]
    where = links.leads()
    text = "\n".join(
        [f"Leads at {account_name}, {when}:", ""]
        + [f"  {label}: {count}" for label, count in lines]
        + ["", f"Open the leads: {where}" if where else "See them under Leads in Forecourt's workspace."]
    )
    rows = "".join(f"<tr><td>{escape(label)}</td><td>{count}</td></tr>" for label, count in lines)
    opened = (
        f'<p><a href="{escape(where, quote=True)}">Open the leads</a></p>'
        if where
        else "<p>See them under Leads in Forecourt's workspace.</p>"
    )
    html = f"<p>{escape(f'Leads at {account_name}, {when}:')}</p><table>{rows}</table>{opened}"
    return Rendered(subject, text + "\n", _page(html))
