"""Device profiles: which SSCv2 resources to subscribe per product (sennheiser.md §2.1, §2.3).

A profile is chosen from ``/api/device/identity.product``. When the device offers
``/api/ssc/schema`` the subscription list is narrowed to the paths the schema declares
(templated paths such as ``/api/channel/{id}`` match any concrete id).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from micboard_desktop.plugins.sennheiser.ssc2.client import DEFAULT_USER, SPECTERA_USER

Family = Literal["ewdx", "spectera"]

EWDX_QUALITY_MAX: Final = 100.0
"""EW-DX ``signalQualityIndicator`` is a percentage [2ND]."""
SPECTERA_QUALITY_MAX: Final = 4.0
"""Spectera ``micLqi`` runs 0-4 [IMPL-HW]."""
DEFAULT_EWDX_CHANNELS: Final = 2

_COMMON: Final = ("/api/device/site", "/api/device/state", "/api/firmware/update/state")
_SPECTERA: Final = (
    "/api/mts/paired/all",
    "/api/rf/channels",
    "/api/audio/outputs",
    "/api/audio/inputs",
    "/api/audio/metering",
)
_CHANNEL_IN_SCHEMA = re.compile(r"^/api/channel/(\d+)$")
_CHANNEL_COUNT_IN_PRODUCT = re.compile(r"(\d)\s*CH", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Profile:
    """What to subscribe on one product family and how to read it."""

    family: Family
    product: str
    paths: tuple[str, ...]
    """Resources to subscribe (and GET once after subscribing), in order."""
    meter_paths: frozenset[str]
    """Resources that are meters: they go to the MeterBus, never the store."""
    quality_max: float
    channel_ids: tuple[int, ...] = ()
    """EW-DX channel ids (0-based); empty for Spectera, whose channels come and go."""


def family_of(product: str) -> Family:
    """Return the family of a product name (unknown products are treated as EW-DX [INF])."""
    return "spectera" if "SPECTERA" in product.upper() else "ewdx"


def default_username(product: str | None) -> str:
    """Return the HTTP Basic user of a product (``controlSennheiser`` for Spectera)."""
    return SPECTERA_USER if product and family_of(product) == "spectera" else DEFAULT_USER


def _template_regex(template: str) -> re.Pattern[str]:
    parts = (
        r"[^/]+" if re.fullmatch(r"\{[^}]*\}", p) else re.escape(p) for p in template.split("/")
    )
    return re.compile("/".join(parts) + "$")


def declared(paths: Iterable[str], schema: frozenset[str] | None) -> tuple[str, ...]:
    """Return ``paths`` the schema declares (all of them when there is no schema)."""
    wanted = tuple(paths)
    if schema is None:
        return wanted
    patterns = [_template_regex(t) for t in schema if "{" in t]
    return tuple(p for p in wanted if p in schema or any(r.match(p) for r in patterns))


def ewdx_channel_ids(product: str, schema: frozenset[str] | None) -> tuple[int, ...]:
    """Return the channel ids of an EW-DX receiver, from the schema or the product name."""
    if schema is not None:
        ids = sorted({int(m.group(1)) for p in schema if (m := _CHANNEL_IN_SCHEMA.match(p))})
        if ids:
            return tuple(ids)
    match = _CHANNEL_COUNT_IN_PRODUCT.search(product)
    count = int(match.group(1)) if match and 1 <= int(match.group(1)) <= 8 else 0
    return tuple(range(count or DEFAULT_EWDX_CHANNELS))


def ewdx_paths(channel_id: int) -> tuple[str, ...]:
    """Return the resources of one EW-DX channel (§2.3 plus the transmitter item)."""
    base = f"/api/channel/{channel_id}"
    tx = f"/api/transmitters/{channel_id}"
    return (
        base,
        f"{base}/warnings",
        f"{base}/signalQualityIndicator",
        f"{base}/level",
        f"/api/rf/channels/{channel_id}",
        tx,
        f"{tx}/battery",
    )


def profile_for(product: str, schema: frozenset[str] | None = None) -> Profile:
    """Return the profile of ``product``, narrowed to ``schema`` when the device has one."""
    if family_of(product) == "spectera":
        return Profile(
            family="spectera",
            product=product,
            paths=declared((*_COMMON, *_SPECTERA), schema),
            meter_paths=frozenset({"/api/audio/metering"}),
            quality_max=SPECTERA_QUALITY_MAX,
        )
    ids = ewdx_channel_ids(product, schema)
    paths = [*_COMMON]
    for channel_id in ids:
        paths.extend(ewdx_paths(channel_id))
    return Profile(
        family="ewdx",
        product=product,
        paths=declared(paths, schema),
        meter_paths=frozenset(f"/api/channel/{i}/level" for i in ids),
        quality_max=EWDX_QUALITY_MAX,
        channel_ids=ids,
    )
