"""Reading another instance's JSON back into the model: faithful, and safe on any input."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micboard_desktop.core.model import (
    ChannelKind,
    Charger,
    ChargerBattery,
    ChargerBay,
    ChargerId,
    ConnectionInfo,
    ConnectionStatus,
    Iem,
    IemMode,
    Receiver,
    Rf,
    Transport,
)
from micboard_desktop.core.status import DEFAULT_THRESHOLDS
from micboard_desktop.lan.serialize import charger_json, receiver_json
from micboard_desktop.plugins.api import UpdateFailed
from micboard_desktop.plugins.micboard.mapping import parse_document, to_charger, to_receiver
from tests.core.builders import make_channel, make_receiver

SOURCE = "53a4045959bc624ac77905078eaa7e93"
WHEN = datetime(2026, 12, 7, 20, 15, 1, 250000, tzinfo=UTC)
LOCAL_ONLY = ("id", "manufacturer", "api_device_id", "location", "origin")


def as_json(receiver: Receiver) -> dict[str, Any]:
    return receiver_json(receiver, DEFAULT_THRESHOLDS)


def without_local_parts(document: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in document.items() if k not in LOCAL_ONLY}
    out["channels"] = [{k: v for k, v in ch.items() if k != "id"} for ch in out["channels"]]
    return out


def rig_receiver() -> Receiver:
    """A receiver with every kind of value: percent quality, coarse RF, an in-ear channel."""
    rid = "sennheiser:https://10.0.0.9/"
    bare = make_receiver(
        rid, channels=0, model="EW-DX EM 4", name="EM 4", ip="10.0.0.9", serial="E4",
        firmware="3.1", location="Stage left", last_seen=WHEN,
        connection=ConnectionInfo(Transport.WEBSOCKET, ConnectionStatus.CONNECTED, WHEN, 2, None),
    )
    return replace(
        bare,
        channels=(
            make_channel(rid, 1, performer="Anna", groups=("Band",), updated_at=WHEN,
                         rf=Rf(rssi_dbm=(-61.5, None), antenna="B", quality=96,
                               quality_max=100, interference=True)),
            make_channel(rid, 2, transmitter=None, rf=Rf(coarse=(2, 5))),
            make_channel(rid, 3, kind=ChannelKind.IEM, transmitter=None,
                         iem=Iem(rf_power_mw=50, rf_muted=False, mode=IemMode.STEREO,
                                 left_dbfs=-12.0, right_dbfs=None)),
        ),
    )


@pytest.mark.parametrize("receiver", [make_receiver(), rig_receiver()])
def test_what_we_read_serializes_as_the_other_side_served_it(receiver: Receiver):
    served = as_json(receiver)
    ours = to_receiver(served, SOURCE, "monitor-laptop")
    assert ours is not None
    assert ours.id == f"micboard:{SOURCE}/{receiver.id}"
    assert ours.manufacturer == "micboard"
    assert [ch.id for ch in ours.channels] == [f"{ours.id}:{n}" for n in
                                               (ch.number for ch in receiver.channels)]
    assert without_local_parts(as_json(ours)) == without_local_parts(served)
    assert as_json(ours)["origin"] == {
        "chain": [SOURCE], "receiver_id": receiver.id, "manufacturer": receiver.manufacturer}


def test_the_origin_is_shown_in_the_location():
    with_place = to_receiver(as_json(rig_receiver()), SOURCE, "monitor-laptop")
    without = to_receiver(as_json(make_receiver()), SOURCE, "10.0.0.7:8058")
    assert with_place is not None
    assert without is not None
    assert with_place.location == "Stage left \u00b7 via monitor-laptop"
    assert without.location == "via 10.0.0.7:8058"


def test_values_out_of_the_contract_become_none():
    served = as_json(make_receiver())
    channel = served["channels"][0]
    channel["transmitter"]["battery"] = {"bars": 255, "percent": 101.5, "minutes": -1,
                                         "type": 7, "charging": "yes"}
    channel["rf"]["rssi_dbm"] = ["-60", True, -70.0]
    channel["number"] = 1.0  # a float without a fraction is still the number 1
    channel["frequency_khz"] = float("nan")
    ours = to_receiver(served, SOURCE, "x")
    assert ours is not None
    tx = ours.channels[0].transmitter
    assert tx is not None
    assert (tx.battery.bars, tx.battery.percent, tx.battery.minutes) == (None, None, None)
    assert (tx.battery.type, tx.battery.charging) == (None, None)
    assert ours.channels[0].rf.rssi_dbm == (None, None, -70.0)
    assert ours.channels[0].frequency_khz is None


def test_documents():
    document = {"schema": "micboard-desktop/data/1", "receivers": [{"id": "shure:a"}, 3],
                "instance": {"id": SOURCE, "name": "foh"}}
    parsed = parse_document(document)
    assert parsed.instance.id == SOURCE
    assert parsed.instance.name == "foh"
    assert len(parsed.receivers) == 1
    assert parse_document({"schema": "micboard-desktop/data/1"}).instance.id is None
    bad_documents: list[object] = [
        {"schema": "other"}, [], "x",
        {"schema": "micboard-desktop/data/1", "instance": {"id": "a/b/c/d/e"}},
    ]
    for bad in bad_documents:
        with pytest.raises(UpdateFailed):
            parse_document(bad)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=6),
    max_leaves=30,
)
FIELDS = st.sampled_from(["id", "name", "channels", "online", "connection", "last_seen",
                          "number", "transmitter", "battery", "rf", "audio", "iem", "kind",
                          "rssi_dbm", "coarse", "quality_percent", "percent", "bars"])


@given(st.dictionaries(FIELDS, JSON, max_size=8), JSON)
def test_any_receiver_json_reads_without_error(raw: dict[str, Any], channel: Any):
    raw.setdefault("channels", [channel, {"number": 1, **(channel if isinstance(channel, dict)
                                                            else {})}])
    ours = to_receiver(raw, SOURCE, "x")
    if ours is None:
        return
    as_json(ours)  # whatever came in serializes again within the contract's rules
    for ch in ours.channels:
        assert ch.number >= 1
        if ch.transmitter is not None:
            bars = ch.transmitter.battery.bars
            assert bars is None or 0 <= bars <= 5


@given(JSON)
def test_any_document_is_read_or_refused(document: Any):
    try:
        parse_document(document)
    except UpdateFailed:
        pass


def test_a_charger_reads_back_as_it_was_served():
    served = charger_json(Charger(
        id=ChargerId("sennheiser:10.0.0.30"), manufacturer="sennheiser",
        api_device_id="10.0.0.30",
        connection=ConnectionInfo(Transport.UDP, ConnectionStatus.CONNECTED, WHEN),
        model="L 6000", name="Charger FOH", ip="10.0.0.30", online=True, last_seen=WHEN,
        bays=(ChargerBay(1, True, "BA 70", "charging", ChargerBattery(40, 95, 12, 70)),
              ChargerBay(2)),
    ))
    ours = to_charger(served, SOURCE)
    assert ours is not None
    assert ours.id == f"micboard:{SOURCE}/sennheiser:10.0.0.30"
    assert ours.manufacturer == "micboard"
    again = charger_json(ours)
    assert {k: v for k, v in again.items() if k != "id" and k != "manufacturer"} == {
        k: v for k, v in served.items() if k != "id" and k != "manufacturer"}
