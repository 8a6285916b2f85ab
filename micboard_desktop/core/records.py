"""The records the whole app shares: groups, alerts and history samples.

One vocabulary: the engine produces them, the store and the views show them, the LAN API
serializes them and the data layer stores them. They depend on nothing but the standard
library, so every layer can use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A user-defined group of channels."""

    name: str
    channel_ids: tuple[str, ...] = ()
    slot: int | None = None
    """Number key (1-9) that selects the group on the dashboard, if any."""


class Severity(StrEnum):
    """How urgent an alert is; declared from least to most urgent."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Return how urgent this is (0 for info; higher is worse)."""
        return _SEVERITY_ORDER.index(self)


_SEVERITY_ORDER: tuple[Severity, ...] = tuple(Severity)


@dataclass(frozen=True, slots=True)
class AlertInfo:
    """One alert, active while ``cleared_at`` is ``None``."""

    key: str
    """Stable identity: ``"<rule>:<channel or receiver id>"``."""
    rule: str
    """``low_battery``, ``critical_battery``, ``tx_off``, ``rx_offline``, ``rf_loss``, ..."""
    severity: Severity
    message: str
    raised_at: datetime
    manufacturer: str | None = None
    receiver_id: str | None = None
    channel_id: str | None = None
    cleared_at: datetime | None = None
    acknowledged_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class HistorySample:
    """One downsampled bucket of a channel metric."""

    ts: datetime
    minimum: float | None
    maximum: float | None
    last: float | None


@dataclass(frozen=True, slots=True)
class MarkerInfo:
    """A show marker ("Act 2", "Song 7"): a labelled moment on every time axis."""

    id: int
    ts: datetime
    label: str


class HistoryMetric(StrEnum):
    """Channel metrics the history store keeps (the one list: data and views use it too)."""

    BATTERY_PERCENT = "battery_percent"
    BATTERY_BARS = "battery_bars"
    RSSI_DBM = "rssi_dbm"
    AUDIO_PEAK_DBFS = "audio_peak_dbfs"


HISTORY_METRICS: Final = tuple(metric.value for metric in HistoryMetric)
"""Metric names the history store keeps per channel."""
