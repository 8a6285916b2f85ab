"""Shure command strings (TCP 2202): one receiver per connection (shure.md §3).

Rooms: :mod:`.client` (the socket), :mod:`.frames` (framing, size caps, the frames we
send), :mod:`.families` (what to ask each family, which family a device is),
:mod:`.mapping` (frames to typed updates, with :mod:`.psm` and :mod:`.mxw` for those
families' values), :mod:`.state` (updates folded into a receiver) and :mod:`.coordinator`
(one connection kept live).
"""
