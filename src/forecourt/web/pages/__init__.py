"""The workspace's pages, a module each: its routes in `ROUTES` (web/app.py mounts them)."""

from forecourt.web.pages import leads, settings, signin, today, uploads

ROUTES = [*signin.ROUTES, *today.ROUTES, *leads.ROUTES, *uploads.ROUTES, *settings.ROUTES]
