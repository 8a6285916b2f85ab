"""Advertise simulated SSCv1 devices over DNS-SD as ``_ssc._udp`` (sennheiser.md §3.1, §7).

What a real device announces, as far as the reference knows: the service type
``_ssc._udp``, the instance name ``/device/name``, the SSC port in the SRV record, and a
TXT record with ``txtvers=1``, ``version`` (the SSC version, ``1.0`` here) and ``Model``
(Digital 6000 units say ``EM6000`` or ``L6000``: the product without spaces, [IMPL-HW]; the
same form is used for the other families, which the reference does not show).

Opt-in on purpose: ``simulate --advertise`` turns it on. A test run or the demo must not
send multicast nobody asked for, and two engineers' simulators on one network would
otherwise find each other. By default only loopback (``127.0.0.1``) carries the
announcements, which is also where the simulators listen; the app finds them because its
browse includes loopback.

For tests of what the browser survives, a device can carry a raw TXT record
(:attr:`AdvertisedDevice.raw_txt`: malformed strings, oversized values) instead of the
reference's keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from micboard_desktop.simulator.rig import SimReceiver

SERVICE_TYPE: Final = "_ssc._udp.local."
SSC_VERSION: Final = "1.0"
"""The ``/osc/version`` the simulators answer (sennheiser.md §3.2: e.g. ``"1.0"``)."""
MAX_INSTANCE_BYTES: Final = 63
"""A DNS label's limit: longer device names are cut for the instance name."""


@dataclass(frozen=True, slots=True)
class AdvertisedDevice:
    """One SSCv1 service to announce."""

    name: str
    """The instance name (the device's ``/device/name``)."""
    host: str
    """The IP address the device answers on."""
    port: int
    model: str | None = None
    """The TXT ``Model`` value (``None``: no ``Model`` key)."""
    raw_txt: bytes | None = None
    """A whole TXT record to send instead of the reference's keys (hostile tests)."""


class AdvertisableServer(Protocol):
    """What :func:`devices_of` needs from an SSCv1 simulator (``Ssc1Server``)."""

    receiver: SimReceiver
    host: str

    @property
    def port(self) -> int:
        """Return the bound UDP port."""
        ...


def txt_model(product: str) -> str:
    """Return the TXT ``Model`` of a product name: ``"EM 6000"`` -> ``"EM6000"``."""
    return "".join(product.split())


def instance_label(name: str) -> str:
    """Return ``name`` cut to one DNS label (63 UTF-8 bytes, never mid-character)."""
    data = name.encode("utf-8", "replace")[:MAX_INSTANCE_BYTES]  # a lone surrogate: "?"
    return data.decode("utf-8", "ignore") or "SSC device"


def devices_of(servers: Iterable[AdvertisableServer]) -> list[AdvertisedDevice]:
    """Return one advertised device per running SSCv1 simulator."""
    return [
        AdvertisedDevice(
            name=server.receiver.name,
            host=server.host,
            port=server.port,
            model=txt_model(server.receiver.model),
        )
        for server in servers
    ]


def service_info(device: AdvertisedDevice, index: int = 0) -> AsyncServiceInfo:
    """Return the zeroconf service of ``device`` (``index`` keeps host names apart)."""
    properties: bytes | dict[str, str]
    if device.raw_txt is not None:
        properties = device.raw_txt
    else:
        properties = {"txtvers": "1", "version": SSC_VERSION}
        if device.model is not None:
            properties["Model"] = device.model
    return AsyncServiceInfo(
        SERVICE_TYPE,
        f"{instance_label(device.name)}.{SERVICE_TYPE}",
        port=device.port,
        properties=properties,
        server=f"ssc-sim-{device.port}-{index}.local.",
        parsed_addresses=[device.host],
    )


class Ssc1Advertiser:
    """Announces SSCv1 simulators over multicast DNS until stopped (goodbyes on stop)."""

    def __init__(
        self, devices: Sequence[AdvertisedDevice], *, interfaces: Sequence[str] = ("127.0.0.1",)
    ) -> None:
        self.devices = list(devices)
        self.interfaces = list(interfaces)
        """The local addresses whose interfaces carry the announcements."""
        self._zc: AsyncZeroconf | None = None
        self.services: list[AsyncServiceInfo] = []
        """The registered services (names may carry a " (2)" after a name conflict)."""

    async def start(self) -> None:
        """Register every device (probing takes about a second, all devices at once)."""
        zc = AsyncZeroconf(interfaces=self.interfaces)
        self._zc = zc
        infos = [service_info(device, i) for i, device in enumerate(self.devices)]
        try:
            announcements = await asyncio.gather(
                *(zc.async_register_service(info, allow_name_change=True) for info in infos)
            )
            await asyncio.gather(*announcements)
        except BaseException:
            await self.stop()
            raise
        self.services = infos

    async def stop(self) -> None:
        """Say goodbye for every service and close the sockets."""
        zc, self._zc = self._zc, None
        if zc is not None:
            await zc.async_close()
        self.services = []

    def describe(self) -> list[str]:
        """Return one line per announced service (for ``simulate``)."""
        return [
            f"DNS-SD _ssc._udp '{info.name.removesuffix('.' + SERVICE_TYPE)}' "
            f"-> {', '.join(info.parsed_addresses())}:{info.port} "
            f"on {', '.join(self.interfaces)}"
            for info in self.services
        ]
