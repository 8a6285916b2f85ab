"""The repository: batched writes, reads, user data and secrets kept out."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, exc

from micboard_desktop.core.model import (
    Audio,
    Battery,
    Channel,
    ConnectionInfo,
    ConnectionStatus,
    Receiver,
    Rf,
    Transmitter,
    Transport,
    channel_id,
    receiver_id,
)
from micboard_desktop.core.records import HistoryMetric as Metric
from micboard_desktop.data import writes
from micboard_desktop.data.db import open_database
from micboard_desktop.data.errors import (
    AlreadyExists,
    DatabaseClosed,
    DataError,
    NotFound,
    SecretNotAllowed,
)
from micboard_desktop.data.records import (
    AlertRecord,
    ConnectionRecord,
    EventKind,
    HistoryPoint,
    Severity,
)
from micboard_desktop.data.repository import Repository
from tests.data.dbutil import count, sql

T0 = datetime(2026, 11, 26, 20, 14, 3, 120_000, tzinfo=UTC)


def _receiver(
    *,
    performer: str | None = "Jane Doe",
    groups: tuple[str, ...] = (),
    transmitter: Transmitter | None = None,
    online: bool = True,
) -> Receiver:
    rid = receiver_id("shure", "dd4c009a")
    tx = transmitter or Transmitter(
        model="ULXD2",
        battery=Battery(bars=4, percent=None, minutes=312, type="LION", charging=None),
        muted=False,
    )
    return Receiver(
        id=rid,
        manufacturer="shure",
        api_device_id="dd4c009a",
        connection=ConnectionInfo(
            transport=Transport.TCP, status=ConnectionStatus.CONNECTED, since=T0, reconnects=2
        ),
        model="ULXD4Q",
        name="RF 5-8",
        ip="172.21.2.149",
        serial=None,
        firmware="2.7.6.0",
        location=None,
        online=online,
        last_seen=T0,
        channels=(
            Channel(
                id=channel_id(rid, 1),
                number=1,
                name="Lead Vox",
                performer=performer,
                groups=groups,
                frequency_khz=578350,
                transmitter=tx,
                rf=Rf(
                    rssi_dbm=(-60.5, None),
                    antenna="A",
                    quality=5.0,
                    quality_max=5.0,
                    interference=None,
                ),
                audio=Audio(rms_dbfs=-24.0, peak_dbfs=None),
                updated_at=T0,
            ),
            Channel(id=channel_id(rid, 2), number=2),  # everything unknown, no transmitter
        ),
    )


def _stale(receiver: Receiver) -> Receiver:
    return dataclasses.replace(
        receiver,
        online=False,
        connection=ConnectionInfo(
            transport=receiver.connection.transport, status=ConnectionStatus.DISCONNECTED
        ),
    )


def _commits(repo: Repository) -> list[str]:
    """Record the thread name of every commit on the writer engine."""
    seen: list[str] = []

    @event.listens_for(repo.database.writer_engine, "commit")
    def _on_commit(_conn: Any) -> None:
        seen.append(threading.current_thread().name)

    return seen


# -- batching ------------------------------------------------------------------------


async def test_queued_events_land_in_one_commit_on_the_writer_thread(
    repo: Repository, db_path: Path
) -> None:
    commits = _commits(repo)
    for i in range(2000):
        repo.queue_event(EventKind.CONNECTION_STATE, f"event {i}", data={"i": i})
    assert repo.backlog == 2000
    assert count(db_path, "events") == 0  # nothing written before the flush
    await repo.flush()
    assert count(db_path, "events") == 2000
    assert len(commits) == 1
    assert commits[0].startswith("db-writer")
    assert repo.backlog == 0
    await repo.flush()  # nothing queued: no empty transaction
    assert len(commits) == 1


async def test_background_flusher_commits_without_being_asked(db_path: Path) -> None:
    repo = Repository(open_database(db_path), commit_interval=0.02)
    loop = asyncio.get_running_loop()
    committed = asyncio.Event()

    # "checkin" fires when the writer returns its connection, i.e. after the COMMIT.
    @event.listens_for(repo.database.writer_engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, _record: Any) -> None:
        loop.call_soon_threadsafe(committed.set)

    await repo.start()
    try:
        repo.queue_event("device_added", "hello")
        async with asyncio.timeout(5):
            await committed.wait()
        assert count(db_path, "events") == 1
    finally:
        await repo.stop()


async def test_reads_run_on_reader_threads(repo: Repository) -> None:
    names: list[str] = []

    @event.listens_for(repo.database.reader_engine, "begin")
    def _on_begin(_conn: Any) -> None:
        names.append(threading.current_thread().name)

    await repo.list_events()
    assert names
    assert names[0].startswith("db-reader")


async def test_events_survive_close_and_reopen(db_path: Path) -> None:
    repo = Repository(open_database(db_path), commit_interval=3600)
    await repo.start()
    repo.queue_event(
        EventKind.ALERT_RAISED,
        "Battery low",
        severity=Severity.WARNING,
        manufacturer="shure",
        receiver_id="shure:a",
        channel_id="shure:a:1",
        connection_id="conn-1",
        data={"bars": 1, "nested": [1, None, "x"]},
        ts=T0,
    )
    await repo.stop()  # flushes what is queued

    reopened = Repository(open_database(db_path))
    await reopened.start()
    try:
        (stored,) = await reopened.list_events()
    finally:
        await reopened.stop()
    assert stored.id is not None
    assert dataclasses.replace(stored, id=None).ts == T0
    assert stored.kind == "alert_raised"
    assert stored.severity == "warning"
    assert (stored.manufacturer, stored.receiver_id, stored.channel_id) == (
        "shure",
        "shure:a",
        "shure:a:1",
    )
    assert stored.connection_id == "conn-1"
    assert stored.data == {"bars": 1, "nested": [1, None, "x"]}


async def test_list_events_window_and_limit(repo: Repository) -> None:
    for i in range(10):
        repo.queue_event("tick", str(i), ts=T0 + timedelta(seconds=i), manufacturer="shure")
    repo.queue_event("tick", "other", ts=T0, manufacturer="sennheiser")
    await repo.flush()
    latest = await repo.list_events(limit=3, manufacturer="shure")
    assert [e.message for e in latest] == ["7", "8", "9"]  # newest three, oldest first
    since = await repo.list_events(since=T0 + timedelta(seconds=8))
    assert [e.message for e in since] == ["8", "9"]


async def test_bad_values_are_rejected_at_the_call(repo: Repository) -> None:
    with pytest.raises(ValueError, match="naive"):
        repo.queue_event("tick", ts=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="naive"):
        await repo.history("c:1", Metric.RSSI_DBM, datetime(2026, 1, 1), T0)
    # Data that cannot be stored fails at the caller instead of poisoning a whole batch.
    with pytest.raises(TypeError):
        repo.queue_event("tick", data={"when": T0})  # type: ignore[dict-item]
    assert repo.backlog == 0


async def test_transient_failure_keeps_the_batch(
    repo: Repository, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = writes.commit_batch
    calls = 0

    def flaky(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise exc.OperationalError("COMMIT", {}, Exception("database is locked"))
        real(*args)

    monkeypatch.setattr(writes, "commit_batch", flaky)
    repo.queue_event("tick", "first")
    with pytest.raises(DataError):
        await repo.flush()
    assert repo.backlog == 1
    repo.queue_event("tick", "second")
    await repo.flush()
    assert [m for (m,) in sql(db_path, "SELECT message FROM events ORDER BY id")] == [
        "first",
        "second",
    ]


async def test_rejected_batch_is_dropped_not_retried_forever(
    repo: Repository, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any) -> None:
        raise exc.IntegrityError("INSERT", {}, Exception("constraint failed"))

    monkeypatch.setattr(writes, "commit_batch", broken)
    repo.queue_event("tick", "doomed")
    with pytest.raises(DataError):
        await repo.flush()
    assert repo.backlog == 0
    monkeypatch.undo()
    repo.queue_event("tick", "fine")
    await repo.flush()
    assert sql(db_path, "SELECT message FROM events") == [("fine",)]


async def test_backlog_cap_drops_oldest_history_never_events(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    repo = Repository(open_database(db_path), commit_interval=3600, max_backlog=10)
    await repo.start()
    try:
        points = [
            HistoryPoint("shure:a:1", Metric.RSSI_DBM, T0 + timedelta(seconds=i), 1, i, i, i, 1)
            for i in range(8)
        ]
        with caplog.at_level(logging.WARNING, logger="micboard_desktop.data.repository"):
            repo.queue_history(points)
            for i in range(5):
                repo.queue_event("tick", str(i))
            assert repo.backlog == 10
            assert repo.dropped_history == 3
            for i in range(5, 25):
                repo.queue_event("tick", str(i))
        assert repo.dropped_history == 8  # all history went; all 25 events stayed
        warnings = [r for r in caplog.records if "falling behind" in r.getMessage()]
        assert len(warnings) == 1  # logged once
        await repo.flush()
        assert count(db_path, "events") == 25
        assert count(db_path, "history") == 0

        repo.queue_history(points[:8])
        repo.queue_history(points[:5])  # 13 > 10: the three oldest of the first call go
        await repo.flush()
        assert [v for (v,) in sql(db_path, "SELECT last_value FROM history ORDER BY ts")] == [
            0.0,
            1.0,
            2.0,
            3.0,
            4.0,
            5.0,
            6.0,
            7.0,
        ]
    finally:
        await repo.stop()


async def test_closed_repository_refuses_work(db_path: Path) -> None:
    repo = Repository(open_database(db_path))
    await repo.start()
    await repo.stop()
    await repo.stop()  # idempotent
    with pytest.raises(DatabaseClosed):
        repo.queue_event("tick")
    with pytest.raises(DatabaseClosed):
        await repo.list_events()


# -- receivers -----------------------------------------------------------------------


async def test_receivers_round_trip_as_stale_with_unknowns_preserved(
    repo: Repository, db_path: Path
) -> None:
    original = _receiver()
    repo.queue_receiver(original)
    await repo.flush()
    (loaded,) = await repo.load_receivers()
    assert loaded == _stale(original)
    assert loaded.channels[0].transmitter is not None
    assert loaded.channels[0].transmitter.battery.percent is None
    assert loaded.channels[0].rf.rssi_dbm == (-60.5, None)
    assert loaded.channels[1] == Channel(id=original.channels[1].id, number=2)
    # The derived status is stored too, for a glance at the file.
    assert sql(db_path, "SELECT status FROM channels ORDER BY number") == [("ok",), ("tx_off",)]


async def test_device_updates_never_overwrite_performer_or_groups(repo: Repository) -> None:
    first = _receiver(performer="Jane Doe")
    repo.queue_receiver(first)
    await repo.flush()
    ch1 = first.channels[0].id
    assert await repo.set_performer(ch1, "Alice")
    await repo.save_group("Band", [ch1])

    # The device reports again: new values, but no (or a different) performer and groups.
    update = dataclasses.replace(
        _receiver(performer=None, groups=("Device says",), transmitter=Transmitter()),
        name="Renamed on device",
    )
    repo.queue_receiver(update)
    await repo.flush()
    (loaded,) = await repo.load_receivers()
    assert loaded.name == "Renamed on device"
    assert loaded.channels[0].performer == "Alice"
    assert loaded.channels[0].groups == ("Band",)
    assert loaded.channels[0].transmitter == Transmitter()


async def test_unlinked_transmitter_is_forgotten(repo: Repository) -> None:
    repo.queue_receiver(_receiver())
    await repo.flush()
    linked = _receiver()
    unlinked = dataclasses.replace(
        linked,
        channels=(dataclasses.replace(linked.channels[0], transmitter=None), linked.channels[1]),
    )
    repo.queue_receiver(unlinked)
    await repo.flush()
    (loaded,) = await repo.load_receivers()
    assert loaded.channels[0].transmitter is None


async def test_newest_snapshot_in_a_batch_wins(repo: Repository) -> None:
    repo.queue_receiver(dataclasses.replace(_receiver(), name="old"))
    repo.queue_receiver(dataclasses.replace(_receiver(), name="new"))
    assert repo.backlog == 1
    await repo.flush()
    (loaded,) = await repo.load_receivers()
    assert loaded.name == "new"


async def test_delete_receiver_cascades(repo: Repository, db_path: Path) -> None:
    repo.queue_receiver(_receiver())
    await repo.flush()
    assert await repo.delete_receiver("shure:dd4c009a")
    assert not await repo.delete_receiver("shure:dd4c009a")
    assert await repo.load_receivers() == []
    assert count(db_path, "channels") == 0
    assert count(db_path, "transmitters") == 0


async def test_set_performer_of_unknown_channel(repo: Repository) -> None:
    assert not await repo.set_performer("shure:nope:1", "Bob")


# -- connections ---------------------------------------------------------------------


def _conn(cid: str, state: ConnectionStatus, **kw: Any) -> ConnectionRecord:
    return ConnectionRecord(
        connection_id=cid,
        manufacturer=kw.pop("manufacturer", "shure"),
        transport=kw.pop("transport", Transport.WEBSOCKET),
        state=state,
        **kw,
    )


async def test_connection_states_upsert_and_cleanup(repo: Repository) -> None:
    repo.queue_connection_state(_conn("api", ConnectionStatus.CONNECTING))
    await repo.flush()
    repo.queue_connection_state(
        _conn(
            "api",
            ConnectionStatus.ERROR,
            since=T0,
            reconnects=3,
            error_count=7,
            last_error="timeout",
            last_message_at=T0,
        )
    )
    repo.queue_connection_state(
        _conn("rx1", ConnectionStatus.CONNECTED, transport=Transport.TCP, receiver_id="shure:rx1")
    )
    repo.queue_connection_state(
        _conn("ssc", ConnectionStatus.CONNECTED, manufacturer="sennheiser", transport=Transport.SSE)
    )
    await repo.flush()

    rows = await repo.list_connections()
    assert [r.connection_id for r in rows] == ["api", "rx1", "ssc"]
    api = rows[0]
    assert (api.state, api.reconnects, api.error_count, api.last_error) == (
        ConnectionStatus.ERROR,
        3,
        7,
        "timeout",
    )
    assert api.since == T0
    assert api.updated_at is not None
    assert [r.connection_id for r in await repo.list_connections(manufacturer="shure")] == [
        "api",
        "rx1",
    ]
    connected = await repo.list_connections(state=ConnectionStatus.CONNECTED)
    assert [r.connection_id for r in connected] == ["rx1", "ssc"]

    # A queued state of a removed device must not resurrect its row at the next flush.
    repo.queue_connection_state(_conn("rx1", ConnectionStatus.DISCONNECTED))
    assert await repo.delete_connections_except(["api", "ssc"]) == 1
    await repo.flush()
    assert [r.connection_id for r in await repo.list_connections()] == ["api", "ssc"]


# -- groups --------------------------------------------------------------------------


async def test_groups_crud(repo: Repository, db_path: Path) -> None:
    band = await repo.save_group("Band", ["c:1", "c:2", "c:1"], slot=1)
    assert band.channel_ids == ("c:1", "c:2")
    assert band.slot == 1
    brass = await repo.save_group("Brass", ["c:3"])
    assert brass.slot is None
    assert [g.name for g in await repo.list_groups()] == ["Band", "Brass"]

    # Saving again replaces the channels and keeps the slot unless a new one is given.
    band = await repo.save_group("Band", ["c:2"])
    assert (band.channel_ids, band.slot) == (("c:2",), 1)
    # A slot belongs to one group only.
    brass = await repo.save_group("Brass", ["c:3"], slot=1)
    assert brass.slot == 1
    groups = {g.name: g for g in await repo.list_groups()}
    assert groups["Band"].slot is None
    assert (await repo.set_group_slot("Brass", None)).slot is None

    renamed = await repo.rename_group("Band", "Rhythm")
    assert renamed.channel_ids == ("c:2",)
    with pytest.raises(AlreadyExists):
        await repo.rename_group("Rhythm", "Brass")
    with pytest.raises(NotFound):
        await repo.rename_group("Nope", "Other")
    with pytest.raises(NotFound):
        await repo.set_group_slot("Nope", 2)
    with pytest.raises(ValueError, match="name"):
        await repo.save_group("   ", [])

    await repo.reorder_groups(["Brass"])
    assert [g.name for g in await repo.list_groups()] == ["Brass", "Rhythm"]

    assert await repo.delete_group("Rhythm")
    assert not await repo.delete_group("Rhythm")
    assert [g.name for g in await repo.list_groups()] == ["Brass"]
    assert count(db_path, "group_memberships") == 1  # the deleted group's rows cascaded


# -- configuration and manufacturers -------------------------------------------------


async def test_config_global_and_per_manufacturer(repo: Repository, db_path: Path) -> None:
    await repo.set_config("polling_interval", 10)
    await repo.set_config("polling_interval", 5, manufacturer="shure")
    await repo.set_config("polling_interval", 12)  # overwrite, not a second global row
    await repo.set_config("meter_rate_ms", {"fast": 50, "slow": [100, 200]}, manufacturer="shure")
    assert await repo.get_config("polling_interval") == 12
    assert await repo.get_config("polling_interval", manufacturer="shure") == 5
    assert await repo.get_config("polling_interval", manufacturer="sennheiser") is None
    assert await repo.get_config("missing", default="fallback") == "fallback"
    assert await repo.all_config() == {
        None: {"polling_interval": 12},
        "shure": {"meter_rate_ms": {"fast": 50, "slow": [100, 200]}, "polling_interval": 5},
    }
    assert count(db_path, "micboard_config") == 3
    assert await repo.delete_config("polling_interval", manufacturer="shure")
    assert await repo.get_config("polling_interval", manufacturer="shure") is None
    assert await repo.get_config("polling_interval") == 12


async def test_secrets_never_reach_the_database(repo: Repository, db_path: Path) -> None:
    removed = await repo.upsert_manufacturer(
        "shure",
        "Shure Incorporated",
        True,
        {
            "api_url": "https://localhost:10000",
            "api_key": "SECRET-api-key-1",
            "Password": "SECRET-password-2",
            "lan": {"token": "SECRET-token-3", "port": 8058},
            "devices": [{"host": "10.0.0.5", "client_secret": "SECRET-4"}],
            "secret_ref": "shure-api-key",
            "username": "api",
        },
    )
    assert sorted(removed) == ["Password", "api_key", "devices[0].client_secret", "lan.token"]
    (stored,) = await repo.list_manufacturers()
    assert stored.config == {
        "api_url": "https://localhost:10000",
        "lan": {"port": 8058},
        "devices": [{"host": "10.0.0.5"}],
        "secret_ref": "shure-api-key",
        "username": "api",
    }
    with pytest.raises(SecretNotAllowed):
        await repo.set_config("api_key", "SECRET-5")
    await repo.set_config("lan", {"port": 1, "token": "SECRET-6"})
    assert await repo.get_config("lan") == {"port": 1}

    # Updating keeps one row and replaces the config.
    await repo.upsert_manufacturer("shure", "Shure", False, {"timeout": 10})
    (stored,) = await repo.list_manufacturers()
    assert (stored.name, stored.enabled, stored.config) == ("Shure", False, {"timeout": 10})

    await repo.stop()
    raw = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.is_file())
    assert b"SECRET" not in raw


async def test_receiver_for_an_unconfigured_manufacturer_creates_a_placeholder(
    repo: Repository,
) -> None:
    repo.queue_receiver(_receiver())
    await repo.flush()
    assert [(m.code, m.name, m.enabled) for m in await repo.list_manufacturers()] == [
        ("shure", "shure", True)
    ]


async def test_discovered_devices(repo: Repository) -> None:
    later = T0 + timedelta(minutes=5)
    await repo.upsert_discovered("shure", "10.0.0.5", model="ULXD4Q", name="RF 1-4", seen_at=T0)
    await repo.upsert_discovered("shure", "10.0.0.5", seen_at=later)  # model/name kept
    await repo.upsert_discovered("sennheiser", "10.0.0.9", seen_at=T0)
    assert await repo.set_discovered_added("shure", "10.0.0.5")
    assert not await repo.set_discovered_added("shure", "10.9.9.9")
    shure = await repo.list_discovered("shure")
    assert len(shure) == 1
    device = shure[0]
    assert (device.model, device.name, device.added) == ("ULXD4Q", "RF 1-4", True)
    assert (device.first_seen, device.last_seen) == (T0, later)
    assert [d.address for d in await repo.list_discovered()] == ["10.0.0.5", "10.0.0.9"]


async def test_alerts_raise_clear_and_reraise(repo: Repository) -> None:
    alert = AlertRecord(
        key="low_battery:shure:a:1",
        rule="low_battery",
        severity=Severity.WARNING,
        raised_at=T0,
        message="Battery low",
        channel_id="shure:a:1",
    )
    repo.queue_alert(alert)
    await repo.flush()
    assert [a.key for a in await repo.list_alerts()] == [alert.key]
    repo.queue_alert(dataclasses.replace(alert, cleared_at=T0 + timedelta(minutes=1)))
    await repo.flush()
    assert await repo.list_alerts() == []
    (cleared,) = await repo.list_alerts(active_only=False)
    assert not cleared.active
    repo.queue_alert(dataclasses.replace(alert, raised_at=T0 + timedelta(minutes=2)))
    await repo.flush()
    (again,) = await repo.list_alerts()
    assert again.active
    assert again.raised_at == T0 + timedelta(minutes=2)


# -- history -------------------------------------------------------------------------


def _point(second: int, value: float, resolution: int = 1, **kw: Any) -> HistoryPoint:
    return HistoryPoint(
        channel_id=kw.get("channel_id", "shure:a:1"),
        metric=kw.get("metric", Metric.BATTERY_PERCENT),
        ts=T0 + timedelta(seconds=second),
        resolution_s=resolution,
        min_value=value,
        max_value=value,
        last_value=value,
        count=1,
    )


async def test_history_write_window_and_prune(repo: Repository, db_path: Path) -> None:
    repo.queue_history(_point(s, float(s)) for s in range(20))
    repo.queue_history([_point(0, 5.0, resolution=60), _point(60, 6.0, resolution=60)])
    repo.queue_history([_point(3, 1.0, metric=Metric.RSSI_DBM), _point(3, 9.0, channel_id="x")])
    await repo.flush()

    window = await repo.history(
        "shure:a:1", Metric.BATTERY_PERCENT, T0 + timedelta(seconds=5), T0 + timedelta(seconds=8)
    )
    assert [(p.ts, p.last_value) for p in window] == [
        (T0 + timedelta(seconds=s), float(s)) for s in (5, 6, 7)
    ]
    minutes = await repo.history(
        "shure:a:1", Metric.BATTERY_PERCENT, T0, T0 + timedelta(hours=1), resolution=60
    )
    assert [p.last_value for p in minutes] == [5.0, 6.0]

    deleted = await repo.prune_history(T0 + timedelta(seconds=15), resolution=1, batch_size=4)
    assert deleted == 17  # 15 battery seconds + the rssi and "x" rows at second 3
    remaining = await repo.history("shure:a:1", Metric.BATTERY_PERCENT, T0, T0 + timedelta(hours=1))
    assert [p.last_value for p in remaining] == [15.0, 16.0, 17.0, 18.0, 19.0]
    assert count(db_path, "history") == 5 + 2  # the minute buckets are untouched


async def test_history_bucket_written_twice_is_merged(repo: Repository) -> None:
    repo.queue_history([dataclasses.replace(_point(0, 50.0), min_value=40.0, count=3)])
    await repo.flush()
    repo.queue_history(
        [dataclasses.replace(_point(0, 45.0), min_value=None, max_value=70.0, count=2)]
    )
    await repo.flush()
    (merged,) = await repo.history(
        "shure:a:1", Metric.BATTERY_PERCENT, T0, T0 + timedelta(seconds=1)
    )
    assert (merged.min_value, merged.max_value, merged.last_value, merged.count) == (
        40.0,
        70.0,
        45.0,
        5,
    )


async def test_a_receiver_taking_over_a_device_identity_replaces_the_stale_row(
    repo: Repository,
) -> None:
    """A System-API-only row and the merged receiver that later carries its deviceId."""
    listed = dataclasses.replace(_receiver(), id=receiver_id("shure", "dd4c009a"),
                                 api_device_id="dd4c009a", channels=())
    repo.queue_receiver(listed)
    await repo.flush()
    merged = dataclasses.replace(_receiver(), id=receiver_id("shure", "10.0.0.5:2202"),
                                 api_device_id="dd4c009a", channels=())
    repo.queue_receiver(merged)
    await repo.flush()
    assert [(r.id, r.api_device_id) for r in await repo.load_receivers()] == [
        ("shure:10.0.0.5:2202", "dd4c009a")
    ]
    assert repo.write_status().rejected_writes == 0
