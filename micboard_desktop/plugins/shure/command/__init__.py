"""Shure command strings (TCP 2202): one receiver per connection (shure.md §3).

Rooms: :mod:`.client` (the socket), :mod:`.frames` (framing, size caps, the frames we
send), :mod:`.mapping` (family names, parsers, receiver state: wire to model) and
:mod:`.coordinator` (one connection kept live).
"""
