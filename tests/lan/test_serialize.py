import json
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from micboard_desktop.core.model import Audio, Rf
from micboard_desktop.core.status import StatusThresholds
from micboard_desktop.lan import serialize
from micboard_desktop.lan.openapi import contract_schema
from tests.core.builders import make_channel
from tests.lan.helpers import LOCAL_SCHEMA, NOW, SHARED_SCHEMA, assert_valid, sample_store


def test_schema_copies_match_the_shared_contract():
    local = json.loads(LOCAL_SCHEMA.read_text(encoding="utf-8"))
    assert contract_schema() == local  # the copy shipped in micboard_desktop/lan/
    if SHARED_SCHEMA.exists():
        assert json.loads(SHARED_SCHEMA.read_text(encoding="utf-8")) == local


def test_document_has_the_contract_shape():
    doc = serialize.data_json(sample_store().snapshot(), now=NOW)
    assert_valid(doc)
    assert doc["schema"] == "micboard-desktop/data/1"
    assert doc["generated_at"] == "2026-11-26T20:14:03.120Z"
    assert [m["code"] for m in doc["manufacturers"]] == ["sennheiser", "shure"]
    shure = next(m for m in doc["manufacturers"] if m["code"] == "shure")
    assert shure == {
        "code": "shure",
        "name": "Shure Incorporated",
        "health": {"status": "ok", "message": None, "checked_at": "2026-11-26T20:14:03.120Z"},
    }
    rx = next(r for r in doc["receivers"] if r["id"] == "shure:rx1")
    assert rx["connection"] == {
        "transport": "tcp",
        "status": "connected",
        "since": "2026-11-26T20:14:03.120Z",
        "reconnects": 0,
        "last_error": None,
    }
    lead = rx["channels"][0]
    assert lead == {
        "id": "shure:rx1:1",
        "number": 1,
        "name": "Lead Vox",
        "performer": "Jane Doe",
        "groups": ["Band"],
        "frequency_khz": 578350,
        "status": "ok",
        "transmitter": {
            "model": "ULXD2",
            "battery": {"bars": 4, "percent": 80, "minutes": 300, "type": None, "charging": None},
            "muted": None,
        },
        "rf": {"rssi_dbm": [-60.0, -70.0], "antenna": "A", "quality": 5, "interference": False},
        "audio": {"rms_dbfs": -30.0, "peak_dbfs": -20.0},
        "updated_at": "2026-11-26T20:14:03.120Z",
    }
    assert rx["channels"][1]["transmitter"] is None
    assert rx["channels"][1]["status"] == "tx_off"
    assert rx["channels"][2]["transmitter"]["battery"]["percent"] is None


def test_offline_receiver_makes_the_answer_stale_and_channels_rx_offline():
    snapshot = sample_store().snapshot()
    doc = serialize.data_json(snapshot, now=NOW)
    assert doc["stale"] is True
    em4 = next(r for r in doc["receivers"] if r["id"] == "sennheiser:rx2")
    assert {c["status"] for c in em4["channels"]} == {"rx_offline"}
    assert serialize.data_json(snapshot, manufacturer="shure", now=NOW)["stale"] is False


def test_filter_keeps_one_manufacturer():
    doc = serialize.data_json(sample_store().snapshot(), manufacturer="sennheiser", now=NOW)
    assert_valid(doc)
    assert [m["code"] for m in doc["manufacturers"]] == ["sennheiser"]
    assert {r["manufacturer"] for r in doc["receivers"]} == {"sennheiser"}


def test_per_manufacturer_thresholds_decide_status():
    # Runtime decides when the device reports it (issue #23, 7): make every measure strict.
    strict = StatusThresholds(low_battery_bars=4, low_battery_percent=85, low_battery_minutes=320)
    doc = serialize.data_json(
        sample_store().snapshot(),
        thresholds=lambda code: strict if code == "shure" else StatusThresholds(),
        now=NOW,
    )
    rx = next(r for r in doc["receivers"] if r["id"] == "shure:rx1")
    assert rx["channels"][0]["status"] == "low_battery"


def test_non_finite_and_out_of_range_values_become_null():
    channel = make_channel(
        "shure:x",
        1,
        rf=Rf(rssi_dbm=(math.nan, -60.0), quality=math.inf),
        audio=Audio(rms_dbfs=-math.inf, peak_dbfs=None),
        frequency_khz=-1,
    )
    out = serialize.channel_json(channel, receiver_online=True, limits=StatusThresholds())
    assert out["rf"]["rssi_dbm"] == [None, -60.0]
    assert out["rf"]["quality"] is None
    assert out["audio"] == {"rms_dbfs": None, "peak_dbfs": None}
    assert out["frequency_khz"] is None
    json.dumps(out, allow_nan=False)


def test_iso_is_utc_with_z():
    plus_two = timezone(timedelta(hours=2))
    assert serialize.iso(datetime(2026, 1, 1, 12, 0, tzinfo=plus_two)) == "2026-01-01T10:00:00.000Z"
    assert serialize.iso(datetime(2026, 1, 1, 12, 0)) == "2026-01-01T12:00:00.000Z"
    assert serialize.iso(None) is None
    assert serialize.iso(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00.000Z"


def test_channels_are_sorted_and_numbers_below_one_skipped():
    store = sample_store()
    rx = store.snapshot().receivers["shure:rx1"]  # type: ignore[index]
    shuffled = replace(rx, channels=(rx.channels[2], rx.channels[0], make_channel("shure:rx1", 0)))
    out = serialize.receiver_json(shuffled, StatusThresholds())
    assert [c["number"] for c in out["channels"]] == [1, 3]
