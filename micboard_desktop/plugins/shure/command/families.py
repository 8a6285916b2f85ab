"""Shure command-string families: which one a device is, and what to ask each (shure.md §3.4).

Parameter names differ between families and a GET for a name the family lacks gets no
answer at all (shure.md §3.4), so what we *ask* follows the family; until it is known we
ask every spelling. The family itself is read from the answers, strongest evidence first:

1. a configured hint (``family = "psm1000"`` on the device entry) is taken as given;
2. ``MODEL`` (AD ``AD4Q-A``, SLX-D ``SLXD4D``; a P10T or MXW AP that answers it);
3. parameters only one TCP family has (MXW ``TX_STATUS``/``TX_AVAILABLE``/``BUTTON_STS``,
   PSM1000 ``RF_TX_LVL``/``RF_MUTE``/``AUDIO_IN_LVL*``/``DEVICE_NAME``), the ``REPORT``
   verb (only PSM1000 uses it on TCP; UHF-R is UDP), CRLF after frames (PSM1000), and the
   transmitter model's prefix (``ULXD2``, ``QLXD1``, ``MXW2``);
4. the SAMPLE layout (AD and SLX-D have their own; ULX-D and QLX-D share one).

A weaker clue never overrides a stronger one, so an MXW SAMPLE that happens to look like
SLX-D's cannot win against the MXW-only parameters that arrive in the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from micboard_desktop.plugins.shure.command.frames import meter_rate_command

PSM1000: Final = "psm1000"
MXW: Final = "mxw"
CRLF: Final = "\r\n"
"""PSM1000 messages end with CRLF (shure.md §3.1); the other families use none."""


@dataclass(frozen=True, slots=True)
class FamilyNames:
    """The command-string names one Shure family uses."""

    family: str
    tx_model: tuple[str, ...]
    battery: tuple[str, ...]
    """Battery parameters re-queried periodically (bars first)."""
    has_model_param: bool
    """Whether the device answers ``GET MODEL``."""
    names: tuple[str, ...] = ("CHAN_NAME",)
    """Channel-name spellings to ask (PSM1000's document also spells it ``CHAN NAME``)."""
    extra: tuple[str, ...] = ()
    """Other channel parameters re-queried periodically (MXW status, PSM1000 RF)."""
    channels: int | None = None
    """Fixed channel count when GETs go to each channel, not to index 0 (PSM1000: 2)."""
    line_end: str = ""
    """What ends each message we send (CRLF for PSM1000)."""
    bulk: bool = True
    """Whether ``GET 0 ALL`` is worth sending (not established for PSM1000)."""


_MXW_STATUS: Final = ("TX_STATUS", "TX_AVAILABLE", "BUTTON_STS")
_PSM_RF: Final = ("RF_MUTE", "RF_TX_LVL")

FAMILIES: Final[dict[str, FamilyNames]] = {
    "ulxd": FamilyNames(
        "ulxd", ("TX_TYPE",), ("BATT_BARS", "BATT_CHARGE", "BATT_RUN_TIME", "BATT_TYPE"), False
    ),
    "qlxd": FamilyNames(
        "qlxd", ("TX_TYPE",), ("BATT_BARS", "BATT_CHARGE", "BATT_RUN_TIME", "BATT_TYPE"), False
    ),
    "ad": FamilyNames(
        "ad",
        ("TX_MODEL",),
        ("TX_BATT_BARS", "TX_BATT_CHARGE_PERCENT", "TX_BATT_MINS", "TX_BATT_TYPE"),
        True,
    ),
    # SLX-D: firmware 1.4.7.0 says TX_MODEL, other sources TX_TYPE (shure.md §7.5); ask both.
    "slxd": FamilyNames("slxd", ("TX_MODEL", "TX_TYPE"), ("TX_BATT_BARS", "TX_BATT_MINS"), True),
    # P10T: no transmitter pack to ask about; RF state instead. Micboard sends its GETs per
    # channel with CRLF; whether GET 0 ALL works is not known, so it is not relied on.
    PSM1000: FamilyNames(
        PSM1000,
        (),
        (),
        False,
        names=("CHAN_NAME", "CHAN NAME"),
        extra=_PSM_RF,
        channels=2,
        line_end=CRLF,
        bulk=False,
    ),
    # MXW: no bars; percent, runtime (with its own sentinels) and health (shure.md §3.5).
    MXW: FamilyNames(
        MXW,
        ("TX_TYPE",),
        ("BATT_CHARGE", "BATT_RUN_TIME", "BATT_HEALTH"),
        False,
        extra=_MXW_STATUS,
    ),
}
"""Names per family code (``ulxd``, ``qlxd``, ``ad``, ``slxd``, ``psm1000``, ``mxw``)."""

UNKNOWN_FAMILY: Final = FamilyNames(
    "unknown",
    ("TX_TYPE", "TX_MODEL"),
    ("BATT_BARS", "BATT_RUN_TIME", "TX_BATT_BARS", "TX_BATT_MINS"),
    True,
    extra=("TX_STATUS",),
)
"""What to ask before the family is known: every spelling (unknown names just get silence),
plus MXW's ``TX_STATUS``, which names the family when ``GET 0 ALL`` is not answered."""

MXW_REREAD: Final = (
    "TX_TYPE",
    "TX_STATUS",
    "AUDIO_GAIN",
    "BATT_RUN_TIME",
    "BATT_CHARGE",
    "BATT_HEALTH",
    "BUTTON_STS",
    "CHAN_NAME",
)
"""What Shure recommends asking again after ``TX_AVAILABLE`` goes NO -> YES (shure.md §3.4)."""

PSM_CONNECT: Final = ("FREQUENCY", "GROUP_CHAN", "AUDIO_IN_LVL", *_PSM_RF)
"""PSM1000 channel parameters asked once per connection (besides the names)."""


# -- strength of each clue (higher wins) ---------------------------------------------------

HINT: Final = 4
MODEL: Final = 3
PARAMETER: Final = 2
LAYOUT: Final = 1

FAMILY_PARAMS: Final[dict[str, str]] = {
    "TX_STATUS": MXW,
    "TX_AVAILABLE": MXW,
    "BUTTON_STS": MXW,
    "RF_TX_LVL": PSM1000,
    "RF_MUTE": PSM1000,
    "AUDIO_IN_LVL": PSM1000,
    "AUDIO_IN_LVL_L": PSM1000,
    "AUDIO_IN_LVL_R": PSM1000,
    "DEVICE_NAME": PSM1000,
}
"""Parameters that, among the TCP families, only one has (shure.md §3.4)."""

_MODEL_PREFIXES: Final = (
    ("ULXD", "ulxd"),
    ("QLXD", "qlxd"),
    ("SLXD", "slxd"),
    ("P10T", PSM1000),
    ("PSM1", PSM1000),
    ("MXW", MXW),
    ("AD", "ad"),
)
"""Model (receiver or transmitter) prefixes; ``AD`` last so ``ADX1`` and ``AD4Q`` fit."""

_ALIASES: Final = {"p10t": PSM1000, "psm": PSM1000, "axient": "ad", "axientdigital": "ad"}


def family_from_model(model: str | None) -> str | None:
    """Return the family code for a model name such as ``AD4Q-A``, ``SLXD4D`` or ``P10T``."""
    if not model:
        return None
    upper = model.strip().upper()
    for prefix, family in _MODEL_PREFIXES:
        if upper.startswith(prefix):
            return family
    return None


def family_from_hint(text: str | None) -> str | None:
    """Return the family code a configured hint names (``"ULX-D"``, ``"psm1000"``), or None."""
    if not text:
        return None
    key = "".join(c for c in text.lower() if c.isalnum())
    if key in FAMILIES:
        return key
    return _ALIASES.get(key)


def names_for(family: str | None) -> FamilyNames:
    """Return the names to use for ``family`` (every spelling while it is unknown)."""
    if family is None:
        return UNKNOWN_FAMILY
    return FAMILIES.get(family, UNKNOWN_FAMILY)


def line_end(family: str | None) -> str:
    """Return what ends each message sent to ``family`` (CRLF for PSM1000)."""
    return names_for(family).line_end


def _indexes(names: FamilyNames) -> list[str]:
    """Return the channel indexes GETs go to: each channel, or ``0`` for all."""
    if names.channels is None:
        return ["0"]
    return [str(n) for n in range(1, names.channels + 1)]


def requery_commands(family: str | None) -> list[str]:
    """Return the periodic ``GET`` frames for names, transmitter and battery (every 10 s).

    Index ``0`` fans the GET out to every channel, so the channel count need not be known;
    PSM1000 is asked per channel, as Micboard does.
    """
    names = names_for(family)
    params = (*names.names, *names.tx_model, *names.battery, *names.extra)
    return [f"< GET {index} {param} >" for index in _indexes(names) for param in params]


def meter_commands(family: str | None, milliseconds: int) -> list[str]:
    """Return the frames that set metering to ``milliseconds`` (0 = off) for ``family``."""
    names = names_for(family)
    if names.channels is None:
        return [meter_rate_command(milliseconds)]
    return [meter_rate_command(milliseconds, channel=int(i)) for i in _indexes(names)]


def connect_commands(family: str | None, meter_rate_ms: int) -> list[str]:
    """Return what to send on every (re)connect: ask for everything, switch metering on.

    Metering does not survive a reconnect (shure.md §3.2), so it is part of every connect.
    Before the family is known ``GET DEVICE_NAME`` is added: a P10T that does not answer
    ``GET 0 ALL`` still names itself (and its family) with it.
    """
    names = names_for(family)
    out = ["< GET 0 ALL >"] if names.bulk else []
    if family is None:
        out.append("< GET DEVICE_NAME >")
    out += detected_commands(family)
    return out + meter_commands(family, meter_rate_ms)


def detected_commands(family: str | None) -> list[str]:
    """Return the GETs worth sending once ``family`` is known (its own names, every value).

    ``GET 0 ALL`` already covers ULX-D, QLX-D, AD and SLX-D. A PSM1000 is asked each value
    per channel; an MXW is asked its status and battery too, because ``BATT_RUN_TIME``
    means something else there (shure.md §3.5) and ``GET 0 ALL`` is not confirmed on it.
    """
    names = names_for(family)
    if family == PSM1000:
        per_channel = [
            f"< GET {i} {p} >" for i in _indexes(names) for p in (*names.names, *PSM_CONNECT)
        ]
        return ["< GET DEVICE_NAME >", *per_channel]
    if family == MXW:
        return requery_commands(family)
    return []


def reread_commands(family: str | None, channel: int) -> list[str]:
    """Return the GETs Shure recommends after an MXW transmitter becomes available again."""
    if family != MXW or not 1 <= channel <= 8:
        return []
    return [f"< GET {channel} {param} >" for param in MXW_REREAD]


def encode(frames: list[str], end: str = "") -> bytes:
    """Return ``frames`` as the bytes to write, each followed by ``end`` (CRLF or nothing)."""
    return "".join(f + end for f in frames).encode("ascii", errors="replace")
