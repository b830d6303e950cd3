"""Notifications: outbox rows written in the caller's transaction, delivered by the worker."""
