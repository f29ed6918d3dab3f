"""The workspace's pages, a module each: its routes in `ROUTES` (web/app.py mounts them)."""

from forecourt.web.pages import customers, signin, today

ROUTES = [*signin.ROUTES, *today.ROUTES, *customers.ROUTES]
