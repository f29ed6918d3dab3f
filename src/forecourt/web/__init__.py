"""The dealer workspace: server-rendered pages for the staff of an account (Jinja2
templates, htmx for the live parts, every asset served by Forecourt itself).

An edge like the API dialects: its views parse, call core use cases and render; no SQL
and no rules here. `plugin()` is what the composition root hands the app.
"""

from forecourt.web.app import plugin

__all__ = ["plugin"]
