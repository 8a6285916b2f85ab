"""Per-family Shure command-string parameter names (shure.md §3.4).

Parameter names differ between families and a GET for a name the family lacks gets no
answer at all, so what we *ask* must follow the family. What we *parse* is the union of
every family's names (see :mod:`.parsers`), which also tolerates both SLX-D naming variants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class FamilyNames:
    """The command-string names one Shure family uses."""

    family: str
    tx_model: tuple[str, ...]
    battery: tuple[str, ...]
    """Battery parameters re-queried periodically (bars first)."""
    has_model_param: bool
    """Whether the device answers ``GET MODEL``."""


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
}
"""Names per family code (``ulxd``, ``qlxd``, ``ad``, ``slxd``)."""

UNKNOWN_FAMILY: Final = FamilyNames(
    "unknown",
    ("TX_TYPE", "TX_MODEL"),
    ("BATT_BARS", "BATT_RUN_TIME", "TX_BATT_BARS", "TX_BATT_MINS"),
    True,
)
"""What to ask before the family is known: both spellings (unknown names just get silence)."""


def family_from_model(model: str | None) -> str | None:
    """Return the family code for a model name such as ``AD4Q-A`` or ``SLXD4D``."""
    if not model:
        return None
    upper = model.upper()
    for prefix, family in (("ULXD", "ulxd"), ("QLXD", "qlxd"), ("SLXD", "slxd"), ("AD", "ad")):
        if upper.startswith(prefix):
            return family
    return None


def names_for(family: str | None) -> FamilyNames:
    """Return the names to use for ``family`` (both spellings while it is unknown)."""
    if family is None:
        return UNKNOWN_FAMILY
    return FAMILIES.get(family, UNKNOWN_FAMILY)


def requery_commands(family: str | None) -> list[str]:
    """Return the periodic ``GET`` frames for names and battery (Micboard does this every 10 s).

    Index ``0`` fans the GET out to every channel, so the channel count need not be known.
    """
    names = names_for(family)
    return [f"< GET 0 {param} >" for param in ("CHAN_NAME", *names.tx_model, *names.battery)]
