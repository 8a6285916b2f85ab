"""Per-channel meter state kept by the view: level, peak hold, clip light, RF per antenna.

The frame clock feeds each drained :class:`MeterWindow` in and lets the state decay
between frames; ballistics live here, in the view, never in the engine.
"""

from __future__ import annotations

from typing import Final

from micboard_desktop.core.meters import MeterWindow

AUDIO_FLOOR_DBFS: Final = -60.0
"""Bottom of the audio meter scale."""
RF_FLOOR_DBM: Final = -100.0
"""Bottom of the RF meter scale."""
RF_TOP_DBM: Final = -40.0
"""Top of the RF meter scale."""
FALL_DB_PER_S: Final = 24.0
"""How fast the displayed level falls after a peak (a PPM-like release)."""
PEAK_HOLD_S: Final = 1.5
PEAK_FALL_DB_PER_S: Final = 12.0
CLIP_HOLD_S: Final = 2.0
"""The clip light stays on this long after the last clipping peak, so it is seen."""


class MeterState:
    """Displayed meter values of one channel; ``None`` means "no reading yet"."""

    __slots__ = (
        "_clip_left",
        "_hold_left",
        "antenna",
        "audio",
        "clip_dbfs",
        "peak_hold",
        "rf_version",
        "right",
        "rssi",
    )

    def __init__(self, clip_dbfs: float = -1.0) -> None:
        self.audio: float | None = None
        self.peak_hold: float | None = None
        self.right: float | None = None
        """Right input of a stereo in-ear transmitter (``audio`` is the left)."""
        self.rssi: list[float | None] = []
        self.antenna: str | None = None
        self.rf_version = 0
        """Bumped whenever ``rssi`` or ``antenna`` is set, so painters can skip the RF rows."""
        self.clip_dbfs = clip_dbfs
        self._hold_left = 0.0
        self._clip_left = 0.0

    @property
    def clipping(self) -> bool:
        """Return True while the clip light is lit."""
        return self._clip_left > 0.0

    def feed(self, window: MeterWindow) -> None:
        """Take one frame's window: rise instantly to its maximum, as a peak meter does."""
        level = window.audio_peak_max
        if level is None:
            level = window.audio_rms_max
        if level is not None:
            if self.audio is None or level >= self.audio:
                self.audio = level
            if self.peak_hold is None or level >= self.peak_hold:
                self.peak_hold = level
                self._hold_left = PEAK_HOLD_S
            if level >= self.clip_dbfs:
                self._clip_left = CLIP_HOLD_S
        right = window.audio_right_max
        if right is not None:
            if self.right is None or right >= self.right:
                self.right = right
            if right >= self.clip_dbfs:
                self._clip_left = CLIP_HOLD_S
        if window.rssi_max:
            # The strongest level of the frame per antenna: the bar shows what was received.
            self.rssi = list(window.rssi_max)
            self.rf_version += 1
        if window.antenna is not None:
            self.antenna = window.antenna
            self.rf_version += 1

    def decay(self, dt: float) -> bool:
        """Let levels fall for ``dt`` seconds; return True while anything is still moving."""
        moving = False
        if self.audio is not None and self.audio > AUDIO_FLOOR_DBFS:
            self.audio = max(AUDIO_FLOOR_DBFS, self.audio - FALL_DB_PER_S * dt)
            moving = True
        if self.right is not None and self.right > AUDIO_FLOOR_DBFS:
            self.right = max(AUDIO_FLOOR_DBFS, self.right - FALL_DB_PER_S * dt)
            moving = True
        if self.peak_hold is not None and self.peak_hold > AUDIO_FLOOR_DBFS:
            if self._hold_left > 0.0:
                self._hold_left -= dt
            else:
                self.peak_hold = max(AUDIO_FLOOR_DBFS, self.peak_hold - PEAK_FALL_DB_PER_S * dt)
            moving = True
        if self._clip_left > 0.0:
            self._clip_left = max(0.0, self._clip_left - dt)
            moving = True
        return moving


def fraction(value: float | None, low: float, high: float) -> float:
    """Map ``value`` onto 0.0-1.0 between ``low`` and ``high``; unknown is 0."""
    if value is None:
        return 0.0
    return max(0.0, min(1.0, (value - low) / (high - low)))
