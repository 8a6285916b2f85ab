"""Integrations: alerts and live state sent to other tools (webhooks, Slack, Teams, MQTT).

A layer of its own between the composition root (``app``) and the engine and LAN API: it
reads the engine's alert events and the store, serializes them as the LAN API does, and
sends them out. Nothing below it imports it.
"""
