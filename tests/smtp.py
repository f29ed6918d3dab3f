"""A real SMTP server for tests: aiosmtpd on loopback in a thread, recording what it
received (shared by the email and lead-routing tests)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

BOUNDED_WAIT = 30.0  # a safety net against hangs, never an assertion about speed


class Mailbox:
    """What an SMTP server received, and how it answers: RCPT refused with `refuse_rcpt`,
    the next message refused with `refuse_data`; the first RCPT, or DATA, held until
    `release` when `hold_rcpt` or `hold_data` is set."""

    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, EmailMessage]] = []
        self.refuse_rcpt: str | None = None
        self.refuse_data: str | None = None
        self.hold_data = False
        self.release = threading.Event()
        self.data_received = threading.Event()
        self.hold_rcpt = False
        self.rcpt_received = threading.Event()

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        if self.hold_rcpt:
            self.hold_rcpt = False  # the next attempt goes through
            self.rcpt_received.set()
            await server.loop.run_in_executor(None, self.release.wait, BOUNDED_WAIT)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        if self.refuse_data:
            refusal, self.refuse_data = self.refuse_data, None
            return refusal
        content = envelope.original_content or b""
        message = message_from_bytes(content, policy=default)
        assert isinstance(message, EmailMessage)
        self.messages.append((envelope, message))  # taken, as a server does before its 250
        if self.hold_data:
            self.data_received.set()
            # The client gives up waiting for the answer (or dies), the message taken all the same.
            await server.loop.run_in_executor(None, self.release.wait, BOUNDED_WAIT)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(mailbox: Mailbox, port: int | None = None, **options: Any) -> Iterator[int]:
    """An aiosmtpd server on loopback in its own thread; yields its port."""
    controller = Controller(mailbox, hostname="127.0.0.1", port=port or free_port(), **options)
    controller.start()
    try:
        yield controller.port
    finally:
        mailbox.release.set()
        controller.stop()
