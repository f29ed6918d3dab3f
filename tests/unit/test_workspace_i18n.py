"""The workspace's languages: every message of the templates is in the German catalog
(`make translations` keeps them in step), and the language a browser asks for."""

from __future__ import annotations

from datetime import datetime

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from forecourt.core.leads.service import start_of_yesterday
from forecourt.web import app, i18n


def template_messages() -> set[str]:
    found = extract_from_dir(
        str(app.TEMPLATES),
        method_map=[("**.html", "jinja2")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
    )
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


def test_every_message_of_the_templates_is_translated_to_german() -> None:
    with (i18n.LOCALES / "de" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale="de")
    translated = {
        message.id if isinstance(message.id, str) else message.id[0]: message
        for message in catalog
        if message.id
    }
    messages = template_messages()
    assert len(messages) > 30
    missing = sorted(m for m in messages if m not in translated or not translated[m].string)
    fuzzy = sorted(m for m in messages if m in translated and translated[m].fuzzy)
    stale = sorted(set(translated) - messages)
    assert (missing, fuzzy, stale) == ([], [], [])


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("en-US,en;q=0.9,de;q=0.8", "en"),
        ("fr-FR, de;q=0.5", "de"),
        ("fr-FR", "en"),
        ("de;q=0, en;q=0.2", "en"),
        ("", "en"),
        (None, "en"),
        ("de;q=nonsense, en", "en"),
    ],
)
def test_the_language_follows_accept_language(header: str | None, language: str) -> None:
    assert i18n.negotiate(header) == language


def test_a_chosen_language_wins_over_the_browsers() -> None:
    assert i18n.chosen("de", "en-US") == "de"
    assert i18n.chosen("xx", "de-AT") == "de"  # not one of ours: the browser's


def test_yesterday_starts_at_midnight_in_the_accounts_time_zone() -> None:
    now = datetime(2026, 7, 15, 1, 30)  # UTC: 11:30 on the 15th in Sydney (UTC+10)
    assert start_of_yesterday("UTC", now) == datetime(2026, 7, 14)
    assert start_of_yesterday("Australia/Sydney", now) == datetime(2026, 7, 13, 14)
    assert start_of_yesterday("Europe/Berlin", now) == datetime(2026, 7, 13, 22)
