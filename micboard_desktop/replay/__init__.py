"""Replay of a recorded show through the live store (issue #20, item 2).

:mod:`~micboard_desktop.replay.session` turns the recording (read-only, in time slices) into
store updates at the replay clock; :mod:`~micboard_desktop.replay.control` answers the views
and the LAN API the way the engine does, read-only. The clock and the state rebuild are
Qt-free and I/O-free in :mod:`micboard_desktop.core.replay`.
"""
