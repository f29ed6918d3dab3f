"""Labels of the translatable vehicle values, from gettext catalogs (read with Babel).

The catalogs are `locales/<language>/LC_MESSAGES/vehicles.po`: the context is the field,
the message id the key. The .po files are the source and are compiled in memory on
first use, so no binary .mo file is kept in the repository.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path

from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"
_LOCALES = Path(__file__).with_name("locales")


@cache
def _translations(language: str) -> Translations:
    with (_LOCALES / language / "LC_MESSAGES" / "vehicles.po").open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain="vehicles")


def label(language: str, field: str, key: str | int) -> str:
    """The text for a key of a translatable field; the key itself if the catalog lacks it."""
    return str(_translations(language).pgettext(field, str(key)))


def negotiate(accept_language: str | None) -> str:
    """The language for an Accept-Language header (q-values honoured); `de` otherwise."""
    ranked: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((quality, tag.lower()))
    preferred = [tag for _, tag in sorted(ranked, key=lambda item: -item[0])]
    return negotiate_locale(preferred, LANGUAGES, sep="-") or DEFAULT_LANGUAGE
