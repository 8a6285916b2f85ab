"""Simulated Sennheiser SSCv2 devices (REST over HTTPS plus SSE, sennheiser.md §1-§2).

:mod:`.server` is the entry point (one device per server); :mod:`.resources`,
:mod:`.ewdx` and :mod:`.spectera` hold the resource trees, :mod:`.session` one
subscription and :mod:`.sse` the event framing and stream pump.
"""
