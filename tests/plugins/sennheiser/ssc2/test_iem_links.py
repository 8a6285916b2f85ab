"""Spectera IEM links become in-ear channels (#17 item 1), over loopback and as pure mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from micboard_desktop.core.model import ChannelKind, Receiver, ReceiverId
from micboard_desktop.core.status import DEFAULT_THRESHOLDS
from micboard_desktop.lan.serialize import channel_json
from micboard_desktop.plugins.sennheiser.profiles import profile_for
from micboard_desktop.plugins.sennheiser.ssc2 import mapping
from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver, SimTransmitter
from micboard_desktop.simulator.sennheiser.ssc2.server import SscReceiverServer
from tests.plugins.sennheiser.helpers import RecordingSink, coordinator_for, wait_for

IEM_1 = 1 + mapping.IEM_NUMBER_OFFSET
IEM_2 = 2 + mapping.IEM_NUMBER_OFFSET


def _rig() -> tuple[Rig, SimReceiver]:
    """SEK 1 with an IEM link, SEK 2 without, SKM 3 (cannot have one)."""
    rx = SimReceiver(
        protocol="sennheiser_ssc2",
        family="spectera",
        model="SPECTERA-BS",
        name="Spectera IEM",
        channels=[
            SimChannel(1, "Singer", 552_000, SimTransmitter("SEK"), quality=3, iem_link=True),
            SimChannel(2, "Drums", 552_000, SimTransmitter("SEK")),
            SimChannel(3, "Host", 552_000, SimTransmitter("SKM"), iem_link=True),
        ],
    )
    return Rig([rx]), rx


@pytest.fixture
async def running() -> AsyncIterator[tuple[Rig, SimReceiver, RecordingSink]]:
    rig, rx = _rig()
    server = SscReceiverServer(rig, rx)
    await server.start()
    sink = RecordingSink()
    coordinator = coordinator_for(server, sink)
    await coordinator.start()
    try:
        yield rig, rx, sink
    finally:
        await coordinator.stop()
        await server.stop()


def _numbers(receiver: Receiver) -> list[int]:
    return [ch.number for ch in receiver.channels]


async def test_an_active_iem_link_is_an_in_ear_channel_in_api_data(
    running: tuple[Rig, SimReceiver, RecordingSink],
) -> None:
    _, _, sink = running
    await wait_for(lambda: bool(sink.receivers) and sink.last.channel(IEM_1) is not None)
    assert _numbers(sink.last) == [1, 2, 3, IEM_1]  # none for the SEK without, none for SKM
    iem = sink.last.channel(IEM_1)
    assert iem is not None
    assert iem.kind is ChannelKind.IEM
    assert iem.id.endswith(f":{IEM_1}")
    assert iem.transmitter is None
    assert iem.name == "Singer Mix"  # the audio input feeding the link
    assert (iem.rf.quality, iem.rf.quality_max) == (3, 4.0)  # iemLqi
    doc = channel_json(iem, receiver_online=True, limits=DEFAULT_THRESHOLDS)
    assert doc["kind"] == "iem"
    assert doc["transmitter"] is None
    assert doc["iem"]["rf_power_mw"] == 50
    assert doc["iem"]["rf_muted"] is False
    assert doc["iem"]["mode"] is None
    assert doc["iem"]["audio"] == {"left_dbfs": None, "right_dbfs": None}
    mic = sink.last.channel(1)
    assert mic is not None
    assert mic.kind is ChannelKind.MIC
    assert mic.transmitter is not None


async def test_rf_power_and_mute_follow_the_rf_channel(
    running: tuple[Rig, SimReceiver, RecordingSink],
) -> None:
    rig, rx, sink = running
    await wait_for(lambda: bool(sink.receivers) and sink.last.channel(IEM_1) is not None)
    singer = rx.channels[0]
    singer.rf_power_mw = 100
    singer.rf_muted = True
    rig.changed(rx, singer, "iem_rf")

    def muted() -> bool:
        ch = sink.last.channel(IEM_1)
        return ch is not None and ch.iem is not None and ch.iem.rf_muted is True

    await wait_for(muted, within=2.0)
    iem = sink.last.channel(IEM_1)
    assert iem is not None
    assert iem.iem is not None
    assert iem.iem.rf_power_mw == 100


async def test_toggling_the_link_removes_and_adds_the_channel(
    running: tuple[Rig, SimReceiver, RecordingSink],
) -> None:
    rig, rx, sink = running
    await wait_for(lambda: bool(sink.receivers) and sink.last.channel(IEM_1) is not None)
    rx.channels[0].iem_link = False
    rig.changed(rx, rx.channels[0], "transmitter")
    await wait_for(lambda: sink.last.channel(IEM_1) is None, within=2.0)
    assert _numbers(sink.last) == [1, 2, 3]
    rx.channels[1].iem_link = True
    rig.changed(rx, rx.channels[1], "transmitter")
    await wait_for(lambda: sink.last.channel(IEM_2) is not None, within=2.0)
    assert _numbers(sink.last) == [1, 2, 3, IEM_2]
    rx.channels[0].iem_link = True
    rig.changed(rx, rx.channels[0], "transmitter")
    await wait_for(lambda: sink.last.channel(IEM_1) is not None, within=2.0)
    assert _numbers(sink.last) == [1, 2, 3, IEM_1, IEM_2]


# --- pure mapping: sentinels and hostile values -----------------------------------------------

RID = ReceiverId("sennheiser:bs")
PROFILE = profile_for("SPECTERA-BS")


def _sek(**over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "mtUid": 7,
        "type": "SEK",
        "serial": "1234567890",
        "name": "Bass",
        "state": "Connected",
        "rfChannelId": 1,
        "iemAudiolinkId": 12,
        "iemAudiolinkActive": True,
        "iemLqi": 4,
    }
    body.update(over)
    return body


def _channels(mobile: dict[str, object], **res: object) -> dict[int, object]:
    resources: dict[str, object] = {"/api/mts/paired/all/7": mobile, **res}
    return {ch.number: ch for ch in mapping.channels(PROFILE, RID, resources)}


@pytest.mark.parametrize(
    "over",
    [
        {"iemAudiolinkId": -1},
        {"iemAudiolinkActive": False},
        {"iemAudiolinkActive": "true"},
        {"iemAudiolinkId": None},
        {"type": "SKM"},
        {"serial": "0000000000"},
    ],
)
def test_no_in_ear_channel_without_an_active_sek_link(over: dict[str, object]) -> None:
    assert list(_channels(_sek(**over))) == [7]


def test_sentinels_and_strings_are_cleaned() -> None:
    rf = {"/api/rf/channels/1": {"txPower": -1, "rfState": "Weird", "frequency": 0}}
    iem = _channels(_sek(name="  Bass\x00\x07  ", iemLqi=9), **rf)[1007]
    assert iem.kind is ChannelKind.IEM  # type: ignore[attr-defined]
    assert iem.iem.rf_power_mw is None  # type: ignore[attr-defined]
    assert iem.iem.rf_muted is None  # type: ignore[attr-defined]
    assert iem.rf.quality is None  # type: ignore[attr-defined]
    assert iem.frequency_khz is None  # type: ignore[attr-defined]
    assert iem.name is not None  # type: ignore[attr-defined]
    assert iem.name.isprintable()  # type: ignore[attr-defined]
    assert iem.name.endswith(" IEM")  # type: ignore[attr-defined]
    inputs = {"/api/audio/inputs/3": {"inputId": 3, "iemAudiolinkId": 12, "name": " Bass Mix "}}
    assert _channels(_sek(), **inputs)[1007].name == "Bass Mix"  # type: ignore[attr-defined]


def test_an_iem_number_never_shadows_a_mic_channel() -> None:
    resources = {
        "/api/mts/paired/all/7": _sek(),
        "/api/mts/paired/all/1007": _sek(mtUid=1007, type="SKM"),
    }
    chans = mapping.channels(PROFILE, RID, resources)
    assert [(ch.number, ch.kind) for ch in chans] == [(7, ChannelKind.MIC), (1007, ChannelKind.MIC)]
    assert mapping.channel(PROFILE, RID, 1007, resources).kind is ChannelKind.MIC


def test_mobile_feeds_rebuilds_all_only_when_the_link_comes_or_goes() -> None:
    assert mapping.mobile_feeds(7, _sek(), _sek(iemLqi=2)) == frozenset({7, 1007})
    assert mapping.mobile_feeds(7, _sek(iemAudiolinkId=-1), _sek(iemAudiolinkId=-1, iemLqi=1)) == (
        frozenset({7})
    )
    assert mapping.mobile_feeds(7, _sek(), _sek(iemAudiolinkActive=False)) is None
    assert mapping.mobile_feeds(7, None, _sek()) is None
