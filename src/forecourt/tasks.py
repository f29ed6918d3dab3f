"""Every feature's job handlers; importing this registers them with the worker."""

from forecourt.core.uploads import tasks as uploads

__all__ = ["uploads"]
