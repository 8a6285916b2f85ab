"""Sennheiser SSCv2: REST over HTTPS plus Server-Sent Events, one device per connection.

Rooms: :mod:`.client` (httpx requests, the aiohttp event stream, deadlines), :mod:`.frames`
(the bounded SSE parser, body caps, error texts), :mod:`.mapping` (resources to the model)
and :mod:`.coordinator` (one device kept live). See sennheiser.md §1-§2.
"""
