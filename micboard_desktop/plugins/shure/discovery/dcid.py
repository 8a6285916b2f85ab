"""Which receiver a DCID names: the small DCID table behind SLP discovery (shure.md §4).

Source: the nine DCID examples in the project's Shure research reference (§4 table), which
took them from the original Micboard's ``dcid.json`` (converted from Shure's
``DCIDMap.xml``) and its ``DCID_MODEL`` channel counts. Shure's full map has hundreds of
entries (one per model and band); a DCID missing here still gives the device's address, it
just comes without a model, so the table can stay small and grow when real captures do.

``model`` is the name the receiver itself reports (``ULXD4Q``, as the System API and the
command strings spell it); mapping Shure's map keys (``ULX-DQuad``) to those names is ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final


@dataclass(frozen=True, slots=True)
class DcidModel:
    """What one DCID says about a receiver."""

    key: str
    """Shure's model key in ``DCIDMap.xml`` (``ULX-DQuad``)."""
    model: str
    """The model name the receiver reports (``ULXD4Q``)."""
    family: str
    """Family code: ``ulxd``, ``qlxd``, ``ad``, ``uhfr`` or ``psm1000``."""
    channels: int
    """Audio channels (Micboard's count; a PSM1000 P10T has two)."""


def _entry(key: str, model: str, family: str, channels: int) -> DcidModel:
    return DcidModel(key=key, model=model, family=family, channels=channels)


DCID_MODELS: Final[Mapping[str, DcidModel]] = MappingProxyType({
    # (band) as in the reference; one DCID per model and band, so other bands are unknown.
    "040688F8-FD5A-11E3-81EF-0015C5F3F612": _entry("ULX-DSingle", "ULXD4", "ulxd", 1),  # G62
    "0406C584-FD5A-11E3-AD62-0015C5F3F612": _entry("ULX-DDual", "ULXD4D", "ulxd", 2),  # G62
    "0407257E-FD5A-11E3-A21F-0015C5F3F612": _entry("ULX-DQuad", "ULXD4Q", "ulxd", 4),  # G62
    "0405BFCC-FD5A-11E3-BEEE-0015C5F3F612": _entry("QLX-DSingle", "QLXD4", "qlxd", 1),  # G62
    "042D1C02-FD5A-11E3-B298-0015C5F3F612": _entry("AD4D", "AD4D", "ad", 2),  # R52
    "042D5A00-FD5A-11E3-A553-0015C5F3F612": _entry("AD4Q", "AD4Q", "ad", 4),  # R52
    "CCB8A40C-E139-11DF-94A5-0015C5F3F612": _entry("UR4S", "UR4S", "uhfr", 1),
    "CCB8DB5C-E139-11DF-8A4C-0015C5F3F612": _entry("UR4D", "UR4D", "uhfr", 2),
    "041382D8-FD5A-11E3-A8AA-0015C5F3F612": _entry("PSM1KTx", "P10T", "psm1000", 2),  # G62
})
"""DCID (upper case) -> model, from the reference's §4 examples (see the module docstring)."""


def model_for(dcid: str | None) -> DcidModel | None:
    """Return what ``dcid`` names, or ``None`` for a DCID the table does not know."""
    if dcid is None:
        return None
    return DCID_MODELS.get(dcid.upper())
