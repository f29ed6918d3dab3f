"""The outside world as the core reaches it. bootstrap.py builds one set per process from
the settings and hands it to the app (routes) and to the workers (JobContext.adapters);
tests build theirs with test doubles where an outside service cannot be reached."""

from __future__ import annotations

from dataclasses import dataclass

from forecourt.core.checks.resources import Checker
from forecourt.core.webhooks.schemas import EventRenderer
from forecourt.jobs.worker import JobContext
from forecourt.kit.clock import Clock
from forecourt.providers.mail import Mailer
from forecourt.providers.registration import RegistrationLookup
from forecourt.providers.webhooks import WebhookSender


@dataclass(frozen=True)
class Adapters:
    clock: Clock
    lookup: RegistrationLookup  # plate -> VIN, for uploads and the registration check
    checkers: tuple[Checker, ...]  # the vehicle-check resources this server runs
    sender: WebhookSender
    event_body: EventRenderer  # a webhook event's body, in the dialect's shape
    mailer: Mailer  # SMTP, or nothing sent when email is off
    # Uploads this long are validated a chunk ahead in a process of their own (0: never).
    upload_pipeline_rows: int


# What a feature's job handler gets.
Context = JobContext[Adapters]
