"""Customers and CRM parties marked do-not-contact, and their leads flagged."""
