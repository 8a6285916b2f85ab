"""The Sennheiser merger (plugins/sennheiser/merge.py): one EW-DX over SSCv2 and SSCv1."""

from __future__ import annotations

from micboard_desktop.core.model import (
    Battery,
    Channel,
    ConnectionInfo,
    Receiver,
    ReceiverId,
    Rf,
    Transmitter,
    Transport,
    channel_id,
)
from micboard_desktop.plugins.sennheiser.merge import SennheiserMerger
from tests.plugins.sennheiser.ssc1.helpers import RecordingSink


def receiver(rid: str, serial: str | None, *, online: bool = True, v1: bool = False) -> Receiver:
    r = ReceiverId(rid)
    tx = Transmitter(model="SKM", battery=Battery(percent=80, minutes=480 if v1 else None))
    return Receiver(
        id=r,
        manufacturer="sennheiser",
        api_device_id=rid,
        connection=ConnectionInfo(transport=Transport.UDP if v1 else Transport.SSE),
        model="EW-DX EM 2" if v1 else "EWDX2CHDS",
        serial=serial,
        ip="10.0.0.5",
        online=online,
        channels=(
            Channel(
                id=channel_id(r, 1),
                number=1,
                transmitter=tx,
                rf=Rf(quality=70.0 if v1 else None, quality_max=100.0),
            ),
        ),
    )


def test_same_serial_merges_and_moves_the_meters() -> None:
    sink = RecordingSink()
    merger = SennheiserMerger(sink)
    targets: list[ReceiverId | None] = []
    v1 = ReceiverId("sennheiser:ssc1:10.0.0.5:45")
    merger.register(v1, targets.append)
    merger.ssc1_receiver(receiver(v1, "42", v1=True))
    assert v1 in sink.receivers  # alone it is shown
    merger.ssc2_receiver(receiver("sennheiser:10.0.0.5:443", "42"))
    assert v1 not in sink.receivers  # one device, one receiver
    assert v1 in sink.removed
    assert targets == [ReceiverId("sennheiser:10.0.0.5:443")]
    merged = sink.receivers[ReceiverId("sennheiser:10.0.0.5:443")]
    assert merged.channels[0].rf.quality == 70.0  # filled from SSCv1
    assert merged.channels[0].transmitter is not None
    assert merged.channels[0].transmitter.battery.minutes == 480


def test_other_serials_stay_apart() -> None:
    sink = RecordingSink()
    merger = SennheiserMerger(sink)
    merger.ssc1_receiver(receiver("sennheiser:ssc1:a", "1", v1=True))
    merger.ssc2_receiver(receiver("sennheiser:b", "2"))
    assert set(sink.receivers) == {"sennheiser:ssc1:a", "sennheiser:b"}


def test_offline_sscv1_leaves_no_stale_rf() -> None:
    sink = RecordingSink()
    merger = SennheiserMerger(sink)
    merger.ssc2_receiver(receiver("sennheiser:b", "9"))
    merger.ssc1_receiver(receiver("sennheiser:ssc1:a", "9", v1=True, online=False))
    assert sink.receivers[ReceiverId("sennheiser:b")].channels[0].rf.quality is None
