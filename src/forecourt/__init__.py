"""Forecourt: a self-hosted customer-data platform for car dealers."""

__version__ = "0.1.0"
