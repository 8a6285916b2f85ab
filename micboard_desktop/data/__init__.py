"""Persistence and secrets: SQLite through SQLAlchemy, the OS keyring (no Qt)."""
