"""The workspace's languages: gettext catalogs read with Babel, chosen by the person (a
cookie set by the language switch), else by the browser's Accept-Language.

The catalogs are `locales/<language>/LC_MESSAGES/messages.po`, the source English being
the message ids. The .po files are compiled in memory on first use (as the vehicle labels'
are, core/inventory/i18n.py): no binary .mo file is committed or built at install.
`make translations` extracts the messages of the templates and merges them into the
catalogs.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path

from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("en", "de")
DEFAULT = "en"
NAMES = {"en": "English", "de": "Deutsch"}
LOCALES = Path(__file__).with_name("locales")


@cache
def translations(language: str) -> NullTranslations:
    if language == DEFAULT:
        return NullTranslations()  # the message ids are the English text
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def negotiate(accept_language: str | None) -> str:
    """The language for an Accept-Language header (q-values honoured); English otherwise."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        if tag.strip() and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    preferred = [tag for _, _, tag in sorted(ranked)]
    return negotiate_locale(preferred, LANGUAGES, sep="-") or DEFAULT


def chosen(cookie: str | None, accept_language: str | None) -> str:
    return cookie if cookie in LANGUAGES else negotiate(accept_language)
