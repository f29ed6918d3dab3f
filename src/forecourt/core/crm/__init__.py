"""Delivery of each new lead to the dealer's CRM as an ADF 1.0 XML document, by email or
by an HTTP(S) POST, with a delivery log per lead and target (docs/leads.md)."""
