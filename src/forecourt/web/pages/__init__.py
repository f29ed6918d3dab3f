"""The workspace's pages, a module each: its routes in `ROUTES` (web/app.py mounts them)."""

from forecourt.web.pages import checks, contacts, signin, stock, today

ROUTES = [*signin.ROUTES, *today.ROUTES, *stock.ROUTES, *contacts.ROUTES, *checks.ROUTES]
