"""A test-only manufacturer plugin with canned devices."""

from __future__ import annotations

from collections.abc import Sequence

from micboard_desktop.core import sentinels
from micboard_desktop.core.model import (
    Battery,
    Channel,
    ConnectionInfo,
    Health,
    HealthStatus,
    Receiver,
    Transmitter,
    Transport,
    channel_id,
    receiver_id,
)
from micboard_desktop.plugins.api import ManufacturerPlugin, RawDevice


class FakePlugin(ManufacturerPlugin):
    """Returns two receivers; set ``devices`` or ``healthy`` on the class to change that."""

    manufacturer_code = "fake"
    manufacturer_name = "Fake Audio"
    transports = (Transport.POLL,)
    devices: Sequence[RawDevice] = (
        {"id": "rx1", "model": "FK4", "channels": [{"name": "Vox", "bars": "004"}]},
        {"id": "rx2", "model": "FK4", "channels": [{"name": "Gtr", "bars": "255"}]},
    )
    healthy = True

    async def get_devices(self) -> Sequence[RawDevice]:
        return self.devices

    def transform_device_data(self, raw: RawDevice) -> Receiver | None:
        rid = receiver_id(self.manufacturer_code, str(raw["id"]))
        channels = tuple(
            Channel(
                id=channel_id(rid, n),
                number=n,
                name=ch["name"],
                transmitter=Transmitter(battery=Battery(bars=sentinels.battery_bars(ch["bars"]))),
            )
            for n, ch in enumerate(raw["channels"], start=1)
        )
        return Receiver(
            id=rid,
            manufacturer=self.manufacturer_code,
            api_device_id=str(raw["id"]),
            connection=ConnectionInfo(transport=Transport.POLL),
            model=str(raw["model"]),
            online=True,
            channels=channels,
        )

    async def check_health(self) -> Health:
        return Health(status=HealthStatus.OK if self.healthy else HealthStatus.DOWN)


class OtherCodePlugin(FakePlugin):
    """Declares a code that does not match its registration."""

    manufacturer_code = "other"
