"""Another Micboard Desktop as a source: its receivers, read-only, through its LAN API.

Front of house reads monitor world's laptop (and the reverse) with a ``micboard`` entry
whose devices are ``micboard://HOST[:PORT]`` or the LAN API's ``http(s)://`` URL. Each
address is one connection (:mod:`.coordinator`): ``GET /api/data/`` for the whole
picture, then the ``/api/events/`` stream; ids and loop refusal are in :mod:`.ids`.
"""
