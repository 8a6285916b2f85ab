"""Shure System API: REST inventory plus WebSocket events from one local server.

Rooms: :mod:`.client` (httpx requests, paging, body caps), :mod:`.frames` (WebSocket
subscription topics and event envelopes), :mod:`.mapping` (JSON to device records) and
:mod:`.coordinator` (the server connection kept live). See shure.md §2.
"""
