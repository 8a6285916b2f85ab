"""GET /metrics (contract §6): parsed by prometheus_client's own parser, equal to /api/data/."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from micboard_desktop.core.model import Audio, Battery, Rf, Transmitter
from micboard_desktop.core.records import AlertInfo, Severity
from micboard_desktop.core.store import StateStore
from micboard_desktop.lan.metrics import metrics_text
from micboard_desktop.lan.serialize import data_json
from tests.lan.conftest import Start
from tests.lan.helpers import NOW, TOKEN, auth, engine_for, sample_store, server_for

Samples = dict[str, list[Sample]]


def parse(text: str) -> Samples:
    """Return the samples of every family, by sample name, via the reference parser."""
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append(sample)
    return out


def value(samples: Samples, name: str, **labels: str) -> float | None:
    """Return the one sample of ``name`` whose labels include ``labels``, or None."""
    found = [
        s for s in samples.get(name, []) if all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(found) <= 1, found
    return found[0].value if found else None


def with_levels(store: StateStore) -> None:
    """Give shure:rx1:1 real RF and audio levels and shure:rx1:3 a NaN peak (a sentinel)."""
    rx = store.snapshot().receivers["shure:rx1"]  # type: ignore[index]
    channels = []
    for ch in rx.channels:
        if ch.number == 1:
            ch = replace(
                ch,
                rf=Rf(rssi_dbm=(-61.5, None), quality=4.0),
                audio=Audio(rms_dbfs=-30.0, peak_dbfs=-12.5),
                transmitter=Transmitter(
                    model="ULXD2", battery=Battery(bars=4, percent=71, minutes=245)
                ),
            )
        if ch.number == 3:
            ch = replace(ch, audio=Audio(rms_dbfs=None, peak_dbfs=float("nan")))
        channels.append(ch)
    store.put_receiver(replace(rx, channels=tuple(channels)))


def active(key: str, severity: Severity) -> AlertInfo:
    return AlertInfo(key, key.partition(":")[0], severity, "m", NOW - timedelta(minutes=1))


async def test_metrics_parse_and_carry_the_values_of_api_data(start: Start):
    store = sample_store()
    with_levels(store)
    engine = engine_for(store)
    engine.alert_list = [
        active("low_battery:shure:rx1:1", Severity.WARNING),
        active("rf_loss:shure:rx1:2", Severity.CRITICAL),
        active("tx_off:shure:rx1:3", Severity.CRITICAL),
    ]
    server = await start(server_for(store, engine))
    async with httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.get("/metrics")
        data = (await client.get("/api/data/")).json()
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples = parse(answer.text)
    compared = 0
    for receiver in data["receivers"]:
        up = value(samples, "micboard_connection_up", receiver=receiver["id"])
        connected = receiver["connection"]["status"] == "connected"
        assert up == (1.0 if receiver["online"] and connected else 0.0)
        for channel in receiver["channels"]:
            ids = {"receiver": receiver["id"], "channel": channel["id"]}
            assert value(samples, "micboard_channel_status", status=channel["status"], **ids) == 1
            statuses = [
                s
                for s in samples["micboard_channel_status"]
                if s.labels["channel"] == channel["id"]
            ]
            assert sum(s.value for s in statuses) == 1  # exactly one current status
            battery = (channel["transmitter"] or {}).get("battery", {})
            expected: dict[str, Any] = {
                "micboard_channel_battery_percent": battery.get("percent"),
                "micboard_channel_battery_minutes": battery.get("minutes"),
                "micboard_channel_audio_peak_dbfs": channel["audio"]["peak_dbfs"],
            }
            for name, want in expected.items():
                assert value(samples, name, **ids) == want, (name, ids)  # null: absent
                compared += want is not None
            for antenna, level in enumerate(channel["rf"]["rssi_dbm"], start=1):
                got = value(samples, "micboard_channel_rf_rssi_dbm", antenna=str(antenna), **ids)
                assert got == level
            labels = samples["micboard_channel_status"][0].labels
            assert {"manufacturer", "receiver", "channel", "name"} <= set(labels)
    assert compared >= 3  # the test really compared numbers, not only absences
    assert value(samples, "micboard_channel_battery_percent", channel="shure:rx1:1") == 71
    assert value(samples, "micboard_channel_rf_rssi_dbm", channel="shure:rx1:1", antenna="1") == (
        -61.5
    )
    # A sentinel is an absent sample, not a number: antenna 2 and channel 3's NaN peak.
    second = value(samples, "micboard_channel_rf_rssi_dbm", channel="shure:rx1:1", antenna="2")
    assert second is None
    assert value(samples, "micboard_channel_audio_peak_dbfs", channel="shure:rx1:3") is None
    assert value(samples, "micboard_alerts_active", severity="critical") == 2
    assert value(samples, "micboard_alerts_active", severity="warning") == 1
    assert value(samples, "micboard_alerts_active", severity="info") == 0


async def test_metrics_follow_the_store_at_scrape_time(start: Start):
    store = sample_store()
    with_levels(store)
    server = await start(server_for(store))
    async with httpx.AsyncClient(base_url=server.url) as client:
        before = parse((await client.get("/metrics")).text)
        rx = store.snapshot().receivers["shure:rx1"]  # type: ignore[index]
        first = rx.channels[0]
        assert first.transmitter is not None
        lower = replace(first.transmitter, battery=Battery(bars=1, percent=9, minutes=20))
        channels = (replace(first, transmitter=lower), *rx.channels[1:])
        store.put_receiver(replace(rx, channels=channels))
        after = parse((await client.get("/metrics")).text)
    assert value(before, "micboard_channel_battery_percent", channel="shure:rx1:1") == 71
    assert value(after, "micboard_channel_battery_percent", channel="shure:rx1:1") == 9


async def test_metrics_follow_the_access_rules(start: Start):
    store = sample_store()
    server = await start(server_for(store, host="0.0.0.0"))  # a LAN bind needs the token
    async with httpx.AsyncClient(base_url=server.url) as client:
        refused = await client.get("/metrics")
        allowed = await client.get("/metrics", headers=auth(TOKEN))
        posted = await client.post("/metrics", headers=auth(TOKEN))
    assert refused.status_code == 401
    assert allowed.status_code == 200
    assert "micboard_connection_up" in allowed.text
    assert posted.status_code in (403, 405)


_odd_text = st.text(min_size=0, max_size=20)


@settings(max_examples=60, deadline=None)
@given(
    name=_odd_text,
    percent=st.one_of(st.none(), st.integers(-1000, 1000)),
    rssi=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
)
def test_metrics_text_always_parses(name: str, percent: int | None, rssi: float | None):
    """Hostile names (quotes, newlines, backslashes) and any level still give valid text."""
    store = sample_store()
    rx = store.snapshot().receivers["shure:rx1"]  # type: ignore[index]
    first = replace(
        rx.channels[0],
        name=name,
        rf=Rf(rssi_dbm=(rssi,)),
        transmitter=Transmitter(model="x", battery=Battery(percent=percent)),
    )
    store.put_receiver(replace(rx, channels=(first, *rx.channels[1:])))
    document = data_json(store.snapshot())
    samples = parse(metrics_text(document, []).decode())
    got = value(samples, "micboard_channel_battery_percent", channel="shure:rx1:1")
    want = document["receivers"][1]["channels"][0]["transmitter"]["battery"]["percent"]
    assert document["receivers"][1]["id"] == "shure:rx1"
    assert got == want
    assert value(samples, "micboard_channel_status", channel="shure:rx1:1", status="ok") in (0, 1)
    names = {s.labels["name"] for s in samples["micboard_channel_status"]}
    assert name in names
