"""Every feature's job handlers; importing this registers them with the worker."""

from forecourt.core.checks import tasks as checks
from forecourt.core.uploads import tasks as uploads
from forecourt.core.webhooks import tasks as webhooks

__all__ = ["checks", "uploads", "webhooks"]
