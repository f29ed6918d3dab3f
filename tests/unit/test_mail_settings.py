"""FORECOURT_SMTP_URL read into a server, and the mailer the settings choose; the
password kept out of reprs and errors."""

from __future__ import annotations

import pytest

from forecourt.config import Settings
from forecourt.providers.mail import NoMailer, SmtpMailer, SmtpServer, mailer, parse_smtp_url


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("smtp://relay.local", SmtpServer("smtp", "relay.local", 25)),
        ("smtp+starttls://u:p@mail.example", SmtpServer("smtp+starttls", "mail.example", 587, "u", "p")),
        (
            "smtps://u%40d:p%40ss%3Aw%2Fd@mail.example:2465",
            SmtpServer("smtps", "mail.example", 2465, "u@d", "p@ss:w/d"),
        ),
        ("smtp://[::1]:2525", SmtpServer("smtp", "::1", 2525)),
    ],
)
def test_urls(url: str, server: SmtpServer) -> None:
    assert parse_smtp_url(url) == server


@pytest.mark.parametrize(
    "url",
    ["http://u:hunter2@mail.example", "smtp://u:hunter2@", "smtp://u:hunter2@mail.example:99999", "hunter2"],
)
def test_a_bad_url_is_refused_without_quoting_it(url: str) -> None:
    with pytest.raises(ValueError, match="FORECOURT_SMTP_URL") as raised:
        parse_smtp_url(url)
    assert "hunter2" not in str(raised.value)


def test_the_password_is_not_in_the_repr() -> None:
    assert "hunter2" not in repr(parse_smtp_url("smtps://u:hunter2@mail.example"))


def test_the_mailer_the_settings_choose() -> None:
    assert isinstance(mailer("", "", 10), NoMailer)
    assert isinstance(mailer("smtp://relay.local", "a@b.example", 10), SmtpMailer)
    for sender in (" ", "Forecourt", "søren@dealer.example"):
        with pytest.raises(ValueError, match="FORECOURT_MAIL_FROM"):
            mailer("smtp://relay.local", sender, 10)


def test_no_password_of_the_settings_is_in_their_repr() -> None:
    settings = Settings(
        database_url="postgresql://app:s3cret@db/forecourt", smtp_url="smtps://u:hunter2@mail.example"
    )
    assert "s3cret" not in repr(settings) and "hunter2" not in repr(settings)
