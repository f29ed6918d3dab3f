"""Sending an email over SMTP (standard library), from `FORECOURT_SMTP_URL`: `smtp://`
(no TLS: a relay on the same host or network), `smtp+starttls://` (STARTTLS required,
the server's certificate checked) and `smtps://` (TLS from the first byte).

The conversation is driven step by step (MAIL, RCPT, DATA) rather than by `sendmail`, so
that a failure is known to be before the server could accept the message (safe to retry)
or after the message went out (it may have been accepted: not retried, so an email is
sent at most once), and the caller can record the moment between (`before_data`)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, parseaddr
from typing import NamedTuple, Protocol
from urllib.parse import unquote, urlsplit

SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class Email(NamedTuple):
    id: str  # the Message-ID's left part: the same at every attempt, so a receiver can tell a copy
    to: str
    subject: str
    text: str
    html: str  # empty: a plain-text email


class Outcome(NamedTuple):
    sent: bool
    # When not sent: True if the server may have accepted it all the same (the connection
    # broke after the message's end went out), so it must not be sent again.
    uncertain: bool = False
    error: str | None = None  # for the outbox: no host, address or server reply text


class Mailer(Protocol):
    @property
    def configured(self) -> bool: ...

    def send(self, email: Email, before_data: Callable[[], None]) -> Outcome:
        """One attempt. `before_data` is called once the server has taken the sender and
        the recipient, just before the message is handed over: whatever the caller
        records there tells a later run that the server may have it. Not called when
        the attempt fails before that point (nothing can have been taken)."""
        ...


@dataclass(frozen=True)
class SmtpServer:
    scheme: str
    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)  # never in a repr, a log or an error


def parse_smtp_url(url: str) -> SmtpServer:
    """`smtp[+starttls|s]://[user[:password]@]host[:port]`; ValueError that never quotes
    the URL (it may hold the password)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ValueError("FORECOURT_SMTP_URL is not a URL (bad host or port)") from None
    if parts.scheme not in SCHEMES:
        raise ValueError(
            f"FORECOURT_SMTP_URL must start with one of: {', '.join(f'{s}://' for s in SCHEMES)}"
        )
    if not parts.hostname:
        raise ValueError("FORECOURT_SMTP_URL names no host")
    return SmtpServer(
        scheme=parts.scheme,
        host=parts.hostname,
        port=port or SCHEMES[parts.scheme],
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


def build_message(email: Email, sender: str) -> EmailMessage:
    """A plain-text message with an HTML alternative (none when `html` is empty)."""
    # 7-bit transfer encodings (quoted-printable, base64) for non-ASCII text: no server
    # needs to offer 8BITMIME, which MAIL FROM would otherwise have to declare.
    message = EmailMessage(policy=SMTP.clone(cte_type="7bit"))
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "forecourt.invalid"
    message["Message-ID"] = f"<{email.id}@{domain}>"
    message.set_content(email.text)
    if email.html:
        message.add_alternative(email.html, subtype="html")
    return message


class NoMailer:
    """Email is off (no FORECOURT_SMTP_URL): nothing is sent, and the outbox says so."""

    configured = False

    def send(self, email: Email, before_data: Callable[[], None]) -> Outcome:
        return Outcome(False, error="not sent: email is off (FORECOURT_SMTP_URL is empty)")


class _Refused(Exception):
    def __init__(self, step: str, code: int) -> None:
        super().__init__(f"the mail server refused the {step} (SMTP {code})")


class SmtpMailer:
    configured = True

    def __init__(self, server: SmtpServer, sender: str, timeout: float, ca_file: str = "") -> None:
        self.server, self.sender, self.timeout = server, sender, timeout
        self.envelope_from = parseaddr(sender)[1] or sender  # `Name <a@b>` -> a@b
        # The system's trusted CAs, or the operator's own (a relay with a private CA).
        self.tls = ssl.create_default_context(cafile=ca_file or None)

    def send(self, email: Email, before_data: Callable[[], None]) -> Outcome:
        """One attempt (see Mailer.send). The server's reply text is not kept: it can name
        hosts and addresses."""
        message = build_message(email, self.sender).as_bytes()
        data_sent = False
        try:
            smtp = self._connect()
            try:
                self._greet(smtp)
                code, _ = smtp.mail(self.envelope_from)
                if code != 250:
                    raise _Refused("sender", code)
                code, _ = smtp.rcpt(email.to)
                if code not in (250, 251):
                    raise _Refused("recipient", code)
                before_data()
                data_sent = True  # from here the server may take the message however it ends
                # A refusal of DATA itself raises SMTPDataError; one of the message, after
                # its content, is only the reply's code. Either way it was not taken.
                code, _ = smtp.data(message)
                if code != 250:
                    raise _Refused("message", code)
            finally:
                _close(smtp)
        except _Refused as exc:
            return Outcome(False, error=str(exc))
        except smtplib.SMTPAuthenticationError as exc:
            return Outcome(False, error=f"the mail server refused the sign-in (SMTP {exc.smtp_code})")
        except smtplib.SMTPNotSupportedError:
            return Outcome(False, error="the mail server does not offer STARTTLS or AUTH as configured")
        except smtplib.SMTPResponseException as exc:
            return Outcome(False, error=f"the mail server refused the message (SMTP {exc.smtp_code})")
        except (OSError, smtplib.SMTPException) as exc:  # refused, reset, timed out, TLS
            if data_sent:
                return Outcome(
                    False, uncertain=True, error="the mail server did not confirm it (connection lost)"
                )
            if isinstance(exc, ssl.SSLError):
                return Outcome(False, error="TLS with the mail server failed")
            if isinstance(exc, TimeoutError):
                return Outcome(False, error="the mail server did not answer in time")
            return Outcome(False, error="could not reach the mail server")
        return Outcome(True)

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        if server.scheme == "smtps":
            return smtplib.SMTP_SSL(server.host, server.port, timeout=self.timeout, context=self.tls)
        return smtplib.SMTP(server.host, server.port, timeout=self.timeout)

    def _greet(self, smtp: smtplib.SMTP) -> None:
        smtp.ehlo()
        if self.server.scheme == "smtp+starttls":
            smtp.starttls(context=self.tls)  # SMTPNotSupportedError if not offered
            smtp.ehlo()
        if self.server.username:
            smtp.login(self.server.username, self.server.password)


def _close(smtp: smtplib.SMTP) -> None:
    """QUIT, whatever it answers: the message's fate was settled by DATA's reply."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def mailer(url: str, sender: str, timeout: float, ca_file: str = "") -> Mailer:
    """The mailer the settings describe: NoMailer when the URL is empty."""
    if not url.strip():
        return NoMailer()
    address = parseaddr(sender)[1]
    if not sender.strip() or "@" not in address or not address.isascii():
        raise ValueError("FORECOURT_MAIL_FROM must be an email address when FORECOURT_SMTP_URL is set")
    return SmtpMailer(parse_smtp_url(url), sender.strip(), timeout, ca_file)
