"""Signed-in sessions of staff users in the workspace."""
