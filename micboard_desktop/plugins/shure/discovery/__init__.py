"""Shure devices found on the device network by their SLP announcements (shure.md §4).

:mod:`.announcement` reads one datagram, :mod:`.dcid` names the model behind a DCID,
:mod:`.listener` keeps who announced in the last 30 s, and :mod:`.network` decides when the
listener runs and turns what it heard into the plugin's discovery results.
"""

from __future__ import annotations

from micboard_desktop.plugins.shure.discovery.network import (
    ENV_VAR,
    LISTEN_WINDOW_SECONDS,
    NetworkDiscovery,
)

__all__ = ["ENV_VAR", "LISTEN_WINDOW_SECONDS", "NetworkDiscovery"]
