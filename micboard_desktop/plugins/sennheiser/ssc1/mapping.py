"""SSCv1 families, the addresses asked of each, and their values in the model's units.

Three receiver families and two chargers (sennheiser.md §3.5-§3.7), told apart by
``/device/identity/product``:

* ``ewdx``: EW-DX EM 2 / EM 4 (``rx1``-``rx4``, transmitter n on ``/mates/txn``). Meters
  ``/m/rxn/{rssi dBm, rsqi %, divi 0/1/2, af dBFS}`` are subscribe-only [IMPL].
* ``d6000``: EM 6000 / L 6000 (``rx1``, ``rx2``): ``carrier`` kHz, ``skx/battery``
  ``[state, time]`` (``[]`` = no transmitter), metering array ``/mm`` (§3.6 encodings).
* ``speechline``: SL Rack Receiver DW / SL MCR DW: flat ``/mates/txn/bat_*`` names,
  lifetime in **seconds**. Its receiver-side addresses are not in the reference, so
  ``rxn/name`` and ``rxn/frequency`` are asked defensively (404 leaves them empty, and
  the channels still come from the product).
* ``chg70n`` (EW-DX CHG 70N) and ``l6000`` (Digital 6000 L 6000): chargers, never
  receivers; their bays are read by :mod:`.chargers`.

Every value goes through ``core/sentinels.py``: a value of the wrong type or out of range is
``None``, never a number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from micboard_desktop.plugins.api import MAX_NAME_CHARS, MeterSample, clean_optional, sentinels

Family = Literal["ewdx", "d6000", "speechline", "chg70n", "l6000"]
CHARGER_FAMILIES: Final = frozenset({"chg70n", "l6000"})
"""Families that are chargers (bays, no channels)."""
Values = Mapping[tuple[str, ...], Any]

EWDX_QUALITY_MAX: Final = 100.0
"""``rsqi`` is a percentage [IMPL-HW]."""
D6000_QUALITY_MAX: Final = 255.0
"""``/mm`` LQI runs 0 (worst) to 255 (best) [DOC]."""
MAX_CHANNELS: Final = 4
D6000_BATTERY_PERCENT: Final = {"100%": 100, "70%": 70, "30%": 30}
"""``skx/battery[0]`` steps that are percentages; ``"low"`` is below 30 % (read as one bar)."""
_CHANNELS_IN_PRODUCT: Final = re.compile(r"(?:EM|MCR)\s*-?\s*([1-8])", re.IGNORECASE)
_HMM: Final = re.compile(r"^(\d{1,3}):([0-5]\d)$")


def family_of(product: str | None) -> Family | None:
    """Return the family of a product name, or ``None`` for one we do not know."""
    if not product:
        return None
    up = product.upper().replace(" ", "").replace("-", "").replace("_", "")
    if "CHG70N" in up:
        return "chg70n"
    if up.startswith("L6000"):
        return "l6000"
    if "6000" in up:
        return "d6000"
    if "EWDX" in up or up.startswith(("EM2", "EM4")):
        return "ewdx"
    if "SL" in up or "SPEECHLINE" in up or "MCR" in up or up.endswith("DW"):
        return "speechline"
    return None


def channel_count(family: Family, product: str) -> int:
    """Return how many channels a product has (EM 4 → 4; D6000 → 2; SL Rack DW → 1; chargers 0)."""
    if family in CHARGER_FAMILIES:
        return 0
    if family == "d6000":
        return 2
    match = _CHANNELS_IN_PRODUCT.search(product)
    count = int(match.group(1)) if match else 0
    if family == "ewdx":
        return count if count in (2, 4) else 2
    return count if 1 <= count <= MAX_CHANNELS else 1


IDENTITY_TREE: Final = {
    "device": {
        "identity": {"product": None, "serial": None, "version": None},
        "name": None,
    }
}
"""The first request of a session: it proves the device is there and names its family."""


def slow_tree(family: Family, channels: int) -> dict[str, Any]:
    """Return the receiver-side addresses subscribed on change (device and ``rxn``)."""
    rx: dict[str, Any]
    if family == "ewdx":
        rx = {"name": None, "frequency": None, "mute": None, "warnings": None}
    elif family == "d6000":
        rx = {"name": None, "carrier": None, "audio_mute": None, "active_warnings": None}
    else:
        rx = {"name": None, "frequency": None}
    tree: dict[str, Any] = {"device": {"name": None, "location": None}}
    if family == "d6000":
        del tree["device"]["location"]  # not in the D6000 tree (§3.6)
    for n in range(1, channels + 1):
        branch = dict(rx)
        if family == "d6000":
            branch["skx"] = {"battery": None, "type": None}
        tree[f"rx{n}"] = branch
    return tree


def tx_tree(family: Family, channels: int) -> dict[str, Any] | None:
    """Return the transmitter addresses (``/mates``), subscribed apart: they answer 424."""
    if family == "d6000":
        return None  # the D6000 transmitter lives under rxn/skx (§3.6)
    tx: dict[str, Any]
    if family == "ewdx":
        tx = {
            "battery": {"gauge": None, "type": None, "lifetime": None},
            "warnings": None,
            "type": None,
            "mute": None,
        }
    else:
        tx = {"bat_gauge": None, "bat_lifetime": None, "bat_bars": None}
    return {"mates": {f"tx{n}": dict(tx) for n in range(1, channels + 1)}}


def meter_tree(family: Family, channels: int) -> dict[str, Any] | None:
    """Return the meter addresses (subscribe-only), or ``None`` where none are known."""
    if family == "ewdx":
        fields = {"rssi": None, "rsqi": None, "divi": None, "af": None}
        return {"m": {f"rx{n}": dict(fields) for n in range(1, channels + 1)}}
    if family == "d6000":
        return {"mm": None}
    return None


# -- meters -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MeterReading:
    """One channel's meter values from one datagram, plus its link quality in percent."""

    channel: int
    sample: MeterSample
    quality: float | None
    """Link quality on the family's scale (EW-DX rsqi %, D6000 LQI 0-255), or ``None``."""


def _finite(raw: object, low: float, high: float) -> float | None:
    value = sentinels.parse_float(raw)
    if value is None or not low <= value <= high:
        return None
    return value


EWDX_ANTENNA: Final = {1: "A", 2: "B"}
"""``divi``: 0 none, 1 A, 2 B (sennheiser.md §3.5)."""


def ewdx_meter(channel: int, fields: Mapping[str, Any], antenna: str | None) -> MeterReading:
    """Read ``/m/rxn`` fields (any subset: notifications may come one address at a time)."""
    rssi = _finite(fields.get("rssi"), -150.0, 20.0)
    af = _finite(fields.get("af"), -200.0, 20.0)
    sample = MeterSample(
        audio_peak_dbfs=af,
        rssi_dbm=(rssi,) if rssi is not None else (),
        antenna=antenna,
    )
    quality = sentinels.quality(fields.get("rsqi"), 100)
    return MeterReading(channel, sample, None if quality is None else float(quality))


def ewdx_antenna(raw: object) -> str | None:
    """Return the active antenna of a ``divi`` value (0 and unknown values: none)."""
    value = sentinels.parse_int(raw)
    return EWDX_ANTENNA.get(value) if value is not None else None


def _byte(raw: object) -> int | None:
    return sentinels.in_range(raw, 0, 255)


def d6000_rf_dbm(raw: object) -> float | None:
    """RF level byte → dBm: ``(v - 255) / 2`` (sennheiser.md §3.6)."""
    value = _byte(raw)
    return None if value is None else (value - 255) / 2


def d6000_af_dbfs(raw: object) -> float | None:
    """AF level byte → dBFS: ``(v + 1) / 2 - 128`` (sennheiser.md §3.6)."""
    value = _byte(raw)
    return None if value is None else (value + 1) / 2 - 128


_RF_DBM: Final = tuple((v - 255) / 2 for v in range(256))
_AF_DBFS: Final = tuple((v + 1) / 2 - 128 for v in range(256))
Row = tuple[int, MeterSample, float | None]
"""One ``/mm`` row read: channel, meter sample, link quality (a MeterReading's fields)."""


def d6000_meters(raw: object) -> list[MeterReading]:
    """Read ``/mm``: per channel ``[RF1, RF1_PEAK, RF2, RF2_PEAK, DIV1, DIV2, LQI, AF, AF_PEAK]``.

    A row of another length or with non-byte values yields what it can and ``None`` for the
    rest. ``AF_PEAK`` set means the digital audio clipped: read as a peak at 0 dBFS.
    """
    return [MeterReading(*row) for row in d6000_rows(raw)]


def d6000_rows(raw: object) -> list[Row]:
    """Read ``/mm`` as :func:`d6000_meters` does, as plain tuples (the per-meter hot path)."""
    if not isinstance(raw, list):
        return []
    rows: list[Row] = []
    for index, row in enumerate(raw[:MAX_CHANNELS]):
        if not isinstance(row, list) or len(row) < 9:
            continue
        rows.append(_fast_row(index + 1, row) or _row(index + 1, row))
    return rows


def _fast_row(channel: int, row: list[Any]) -> Row | None:
    """Read a row whose used fields are all plain ints 0-255 by table; else ``None``."""
    rf1, _, rf2, _, div1, div2, lqi, af, peak = row[:9]
    for value in (rf1, rf2, div1, div2, lqi, af, peak):
        if type(value) is not int or not 0 <= value <= 255:
            return None
    antenna = ("A" if div1 else "") + ("B" if div2 else "")
    sample = MeterSample(
        audio_peak_dbfs=0.0 if peak == 1 else _AF_DBFS[af],
        rssi_dbm=(_RF_DBM[rf1], _RF_DBM[rf2]),
        antenna=antenna or None,
    )
    return channel, sample, float(lqi)


def _row(channel: int, row: list[Any]) -> Row:
    """Read one row value by value (anything that is not a byte is ``None``)."""
    rf1, rf2 = d6000_rf_dbm(row[0]), d6000_rf_dbm(row[2])
    div1, div2 = _byte(row[4]), _byte(row[5])
    antenna = ("A" if div1 else "") + ("B" if div2 else "")
    af = d6000_af_dbfs(row[7])
    if _byte(row[8]) == 1:
        af = 0.0
    lqi = _byte(row[6])
    sample = MeterSample(
        audio_peak_dbfs=af,
        rssi_dbm=(rf1, rf2) if rf1 is not None or rf2 is not None else (),
        antenna=antenna or None,
    )
    return channel, sample, None if lqi is None else float(lqi)


# -- slow values ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TxValues:
    """A transmitter as one family reports it, in the model's units."""

    model: str | None = None
    percent: int | None = None
    bars: int | None = None
    minutes: int | None = None
    battery_type: str | None = None
    muted: bool | None = None


def _bool(raw: object) -> bool | None:
    return raw if isinstance(raw, bool) else None


def _words(raw: object) -> frozenset[str]:
    if not isinstance(raw, list):
        return frozenset()
    return frozenset(w for w in raw[:64] if isinstance(w, str))


def warnings(family: Family, values: Values, n: int) -> frozenset[str]:
    """Return the channel's warning words (EW-DX ``warnings``, D6000 ``active_warnings``)."""
    key = "active_warnings" if family == "d6000" else "warnings"
    return _words(values.get((f"rx{n}", key)))


def d6000_minutes(raw: object) -> int | None:
    """Read ``"h:mm"`` as minutes; ``"-:--"`` and anything else is unknown."""
    if not isinstance(raw, str):
        return None
    match = _HMM.match(raw.strip())
    if match is None:
        return None
    return int(match.group(1)) * 60 + int(match.group(2))


def text(raw: object) -> str | None:
    """Return a device string cleaned and bounded (core/text_clean.py); blank or UNKNOWN → None."""
    return clean_optional(sentinels.text(raw), MAX_NAME_CHARS)


def transmitter(family: Family, values: Values, n: int) -> TxValues | None:
    """Return channel ``n``'s transmitter, or ``None`` when none is present or known.

    The 424 answers are kept by the state (they remove the transmitter's values); here only
    what the values themselves say: EW-DX ``NoLink``, D6000 ``skx/battery == []`` or an
    empty ``skx/type``, and for every family no value at all.
    """
    if "NoLink" in warnings(family, values, n):
        return None
    if family == "d6000":
        return _d6000_tx(values, n)
    tx = ("mates", f"tx{n}")
    if family == "ewdx":
        gauge = sentinels.battery_percent(values.get((*tx, "battery", "gauge")))
        model = text(values.get((*tx, "type")))
        if gauge is None and model is None:
            return None
        lifetime = sentinels.battery_minutes(values.get((*tx, "battery", "lifetime")))
        return TxValues(
            model=model,
            percent=gauge,
            minutes=lifetime or None,  # 0 is "not known yet", as SSCv1 clients read it
            battery_type=text(values.get((*tx, "battery", "type"))),
            muted=_bool(values.get((*tx, "mute"))),
        )
    gauge = sentinels.battery_percent(values.get((*tx, "bat_gauge")))
    seconds = sentinels.parse_int(values.get((*tx, "bat_lifetime")))
    bars = sentinels.battery_bars(values.get((*tx, "bat_bars")))
    minutes = seconds // 60 if seconds is not None and 0 < seconds < 65535 * 60 else None
    if gauge is None and minutes is None and bars is None:
        return None
    return TxValues(percent=gauge, bars=bars, minutes=minutes)


def _d6000_tx(values: Values, n: int) -> TxValues | None:
    battery = values.get((f"rx{n}", "skx", "battery"))
    raw_type = values.get((f"rx{n}", "skx", "type"))
    type_name = raw_type[0] if isinstance(raw_type, list) and raw_type else raw_type
    if not isinstance(battery, list) or not battery or type_name == "":
        return None
    state = battery[0] if isinstance(battery[0], str) else None
    percent = D6000_BATTERY_PERCENT.get(state.strip().lower()) if state else None
    return TxValues(
        model=text(type_name),
        percent=percent,
        bars=1 if state is not None and state.strip().lower() == "low" else None,
        minutes=d6000_minutes(battery[1]) if len(battery) > 1 else None,
    )


def channel_name(values: Values, n: int) -> str | None:
    """Return ``/rxn/name``."""
    return text(values.get((f"rx{n}", "name")))


def frequency(family: Family, values: Values, n: int) -> int | None:
    """Return the channel's frequency in kHz (D6000 ``carrier``, others ``frequency``)."""
    key = "carrier" if family == "d6000" else "frequency"
    return sentinels.frequency_khz(values.get((f"rx{n}", key)))


def receiver_muted(family: Family, values: Values, n: int) -> bool | None:
    """Return the receiver channel's own (audio) mute."""
    key = "audio_mute" if family == "d6000" else "mute"
    return _bool(values.get((f"rx{n}", key)))


def quality_max(family: Family) -> float | None:
    """Return the top of a family's link-quality scale (``None``: it reports none)."""
    return {"ewdx": EWDX_QUALITY_MAX, "d6000": D6000_QUALITY_MAX}.get(family)
