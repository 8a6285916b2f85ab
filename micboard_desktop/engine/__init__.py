"""The running monitor: supervisor, health, alerts and history (no Qt)."""
