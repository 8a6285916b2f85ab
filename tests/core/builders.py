"""Small builders for model objects used across core tests."""

from __future__ import annotations

from micboard_desktop.core.model import (
    Audio,
    Battery,
    Channel,
    ConnectionInfo,
    Receiver,
    Rf,
    Transmitter,
    Transport,
    channel_id,
    receiver_id,
)


def make_channel(rid: str = "shure:rx1", number: int = 1, **changes: object) -> Channel:
    values: dict[str, object] = {
        "id": channel_id(receiver_id(*rid.split(":", 1)), number),
        "number": number,
        "name": f"Ch {number}",
        "frequency_khz": 578350,
        "transmitter": Transmitter(model="ULXD2", battery=Battery(bars=4, percent=80, minutes=300)),
        "rf": Rf(
            rssi_dbm=(-60.0, -70.0), antenna="A", quality=5, quality_max=5, interference=False
        ),
        "audio": Audio(rms_dbfs=-30.0, peak_dbfs=-20.0),
    }
    values.update(changes)
    return Channel(**values)  # type: ignore[arg-type]


def make_receiver(rid: str = "shure:rx1", channels: int = 2, **changes: object) -> Receiver:
    manufacturer, device = rid.split(":", 1)
    values: dict[str, object] = {
        "id": receiver_id(manufacturer, device),
        "manufacturer": manufacturer,
        "api_device_id": device,
        "connection": ConnectionInfo(transport=Transport.TCP),
        "model": "ULXD4Q",
        "name": "RF 1-4",
        "online": True,
        "channels": tuple(make_channel(rid, n) for n in range(1, channels + 1)),
    }
    values.update(changes)
    return Receiver(**values)  # type: ignore[arg-type]
