"""The workspace's pages, a module each: its routes in `ROUTES` (web/app.py mounts them)."""

from forecourt.web.pages import signin, today, uploads

ROUTES = [*signin.ROUTES, *today.ROUTES, *uploads.ROUTES]
