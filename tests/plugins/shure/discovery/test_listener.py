"""The SLP device table: models, expiry, caps, garbage (no sockets; a hand-driven clock)."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.plugins.shure.discovery.listener import EXPIRY_SECONDS, SlpListener
from micboard_desktop.simulator.shure.slp import (
    DCIDS,
    GARBAGE,
    UNKNOWN_DCID,
    AnnouncedDevice,
    announcement,
)
from tests.fakes.clock import FakeClock

# Documentation addresses (RFC 5737): only strings here, nothing is sent anywhere.
NET = "198.51.100."


def hear(listener: SlpListener, source: str, model: str | None, dcid: str | None = None) -> None:
    dcid = dcid or (DCIDS[model] if model else UNKNOWN_DCID)
    data = announcement(AnnouncedDevice(source="127.0.0.1", dcid=dcid))
    listener.datagram_received(data, (source, 8427))


def test_devices_appear_with_model_family_channels_and_config_address():
    listener = SlpListener(clock=FakeClock())
    hear(listener, NET + "12", "UR4D")
    hear(listener, NET + "9", "ULXD4Q")
    hear(listener, NET + "10", "P10T")
    rows = [(d.address, d.model.model if d.model else None, d.family, d.channels,
             d.config_address) for d in listener.devices()]
    assert rows == [
        (NET + "9", "ULXD4Q", "ulxd", 4, NET + "9"),
        (NET + "10", "P10T", "psm1000", 2, NET + "10"),
        (NET + "12", "UR4D", "uhfr", 2, f"uhfr://{NET}12"),
    ]


def test_the_source_address_wins_over_the_claimed_one():
    listener = SlpListener(clock=FakeClock())
    hear(listener, NET + "5", "AD4D")  # the payload claims 127.0.0.1
    (device,) = listener.devices()
    assert (device.address, device.claimed_ip) == (NET + "5", "127.0.0.1")


def test_the_claimed_address_is_used_when_the_source_is_unusable():
    listener = SlpListener(clock=FakeClock())
    hear(listener, "0.0.0.0", "AD4D")
    assert [d.address for d in listener.devices()] == ["127.0.0.1"]


async def test_a_device_expires_30_s_after_its_last_announcement():
    clock = FakeClock()
    listener = SlpListener(clock=clock)
    hear(listener, NET + "5", "AD4Q")
    await clock.advance(20)
    hear(listener, NET + "5", "AD4Q")  # refreshed: now lives until 50 s
    await clock.advance(EXPIRY_SECONDS - 0.1)
    assert [d.address for d in listener.devices()] == [NET + "5"]
    assert listener.devices()[0].announcements == 2
    await clock.advance(0.1)
    assert listener.devices() == []


def test_duplicates_make_one_device():
    listener = SlpListener(clock=FakeClock())
    for _ in range(3):
        hear(listener, NET + "5", "QLXD4")
    (device,) = listener.devices()
    assert device.announcements == 3


def test_garbage_and_oversized_datagrams_are_ignored_and_counted():
    listener = SlpListener(clock=FakeClock())
    for data in GARBAGE:
        listener.datagram_received(data, (NET + "66", 8427))
    valid = announcement(AnnouncedDevice(source="127.0.0.1", dcid=DCIDS["AD4Q"]))
    listener.datagram_received(valid + b"x" * 2000, (NET + "67", 8427))
    assert listener.devices() == []
    assert (listener.ignored, listener.oversized) == (len(GARBAGE), 1)


def test_an_unknown_dcid_still_gives_an_address():
    listener = SlpListener(clock=FakeClock())
    hear(listener, NET + "20", None)
    (device,) = listener.devices()
    assert (device.address, device.dcid, device.model, device.channels) == (
        NET + "20", UNKNOWN_DCID, None, None)
    assert device.config_address == NET + "20"


def test_an_announcement_without_dcid_keeps_the_known_model():
    listener = SlpListener(clock=FakeClock())
    hear(listener, NET + "5", "AD4Q")
    listener.datagram_received(b"(csl-esta.dmp=esta.sdt/198.51.100.5:5568)", (NET + "5", 8427))
    (device,) = listener.devices()
    assert device.model is not None
    assert device.model.model == "AD4Q"


async def test_the_cap_holds_and_the_known_devices_stay(caplog: pytest.LogCaptureFixture):
    clock = FakeClock()
    listener = SlpListener(clock=clock, max_devices=5)
    with caplog.at_level(logging.WARNING):
        for n in range(1, 21):
            hear(listener, NET + str(n), "ULXD4")
    assert [d.address for d in listener.devices()] == [NET + str(n) for n in range(1, 6)]
    assert listener.refused == 15
    assert len([r for r in caplog.records if "ignoring new ones" in r.message]) == 1
    await clock.advance(EXPIRY_SECONDS)
    hear(listener, NET + "99", "ULXD4")  # the flood went quiet: room again
    assert [d.address for d in listener.devices()] == [NET + "99"]


def test_strings_are_cleaned():
    listener = SlpListener(clock=FakeClock())
    listener.record("\x1b[31m198.51.100.5\u202e", "\x00X" * 200)
    (device,) = listener.devices()
    assert device.address == "[31m198.51.100.5"
    assert device.dcid is not None
    assert device.dcid.isprintable()
    assert len(device.dcid) <= 128


@settings(max_examples=200)
@given(st.lists(st.tuples(st.binary(max_size=1600), st.integers(0, 255)), max_size=40))
def test_any_traffic_keeps_the_table_within_its_cap(traffic: list[tuple[bytes, int]]):
    listener = SlpListener(clock=FakeClock(), max_devices=8)
    for data, host in traffic:
        listener.datagram_received(data, (NET + str(host), 8427))
        listener.datagram_received(data + f",(cd:{UNKNOWN_DCID})".encode(), (f"203.0.113.{host}",
                                                                           8427))
    assert len(listener.devices()) <= 8
