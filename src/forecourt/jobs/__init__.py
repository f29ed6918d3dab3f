"""Durable background jobs: a table, leases, and a worker loop."""
