"""A simulated Shure System API server (REST inventory plus WebSocket events, shure.md §2).

:mod:`.server` is the entry point; :mod:`.routes` answers ``/api/v1/devices``,
:mod:`.events` owns the WebSocket transports and subscriptions and :mod:`.model` builds
the JSON shapes.
"""
