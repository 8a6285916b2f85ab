"""Simulated Shure receivers over command strings (TCP 2202, shure.md §3).

:mod:`.server` is the entry point (one listening socket per receiver); :mod:`.link` is one
client connection, :mod:`.frames` builds the frames a receiver sends and :mod:`.params`
answers ``GET``/``SET`` per parameter.
"""
