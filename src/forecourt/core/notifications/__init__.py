"""Email notifications: an outbox written in the caller's transaction, sent by a job."""
