"""The workspace's pages, a module each: its routes in `ROUTES` (web/app.py mounts them)."""

from forecourt.web.pages import checks, contacts, customers, leads, settings, signin, stock, today, uploads

ROUTES = [
    *signin.ROUTES,
    *today.ROUTES,
    *leads.ROUTES,
    *customers.ROUTES,
    *uploads.ROUTES,
    *stock.ROUTES,
    *contacts.ROUTES,
    *checks.ROUTES,
    *settings.ROUTES,
]
