"""AlertEngine through a real Repository: events and alert rows on a temp database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from micboard_desktop.core.config import AppConfig
from micboard_desktop.core.store import StateStore
from micboard_desktop.data.db import open_database
from micboard_desktop.data.repository import Repository
from micboard_desktop.engine.alerts import AlertEngine
from tests.core.builders import make_receiver
from tests.engine.test_alerts import CH1, RID, set_battery
from tests.fakes.clock import FakeClock


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[Repository]:
    repository = Repository(open_database(tmp_path / "t.db"), commit_interval=3600)
    await repository.start()
    yield repository
    await repository.stop()


async def test_raise_acknowledge_clear_are_recorded(repo: Repository):
    store = StateStore()
    clock = FakeClock()
    store.put_receiver(make_receiver(RID, channels=1))
    engine = AlertEngine(store, AppConfig(), clock=clock, repository=repo)
    await engine.start()
    key = f"battery:{CH1}"
    start = clock.now()
    try:
        set_battery(store, bars=2)
        await repo.flush()
        [row] = await repo.list_alerts()
        assert (row.key, row.rule, row.severity) == (key, "low_battery", "warning")
        assert row.channel_id == CH1
        assert row.raised_at == clock.now()
        assert row.active

        await clock.advance(5)
        engine.acknowledge(key)
        await clock.advance(5)
        set_battery(store, bars=1)
        await clock.advance(5)
        set_battery(store, bars=5)
        await clock.advance(6)
        await repo.flush()

        assert await repo.list_alerts() == []
        [row] = await repo.list_alerts(active_only=False)
        assert row.rule == "critical_battery"
        assert row.severity == "critical"
        assert row.raised_at == start
        assert row.cleared_at == start + timedelta(seconds=20)  # recovered at 15 s, held 5 s

        events = await repo.list_events()
        assert [(e.kind, e.severity) for e in events] == [
            ("alert_raised", "warning"),
            ("alert_acknowledged", "info"),
            ("alert_raised", "critical"),  # the escalation
            ("alert_cleared", "info"),
        ]
        raised, acknowledged, escalated, cleared = events
        assert raised.ts == row.raised_at
        assert acknowledged.ts == start + timedelta(seconds=5)
        assert escalated.ts == start + timedelta(seconds=10)
        assert cleared.ts == row.cleared_at
        assert escalated.data == {
            "key": key,
            "rule": "critical_battery",
            "escalated_from": "low_battery",
        }
        assert all(e.channel_id == CH1 and e.receiver_id == RID for e in events)
        assert all(e.manufacturer == "shure" for e in events)
        assert "Low battery" in raised.message
    finally:
        await engine.stop()


async def test_a_closed_repository_does_not_break_alerting(tmp_path: Path):
    repository = Repository(open_database(tmp_path / "t.db"), commit_interval=3600)
    await repository.start()
    await repository.stop()
    store = StateStore()
    store.put_receiver(make_receiver(RID, channels=1))
    engine = AlertEngine(store, AppConfig(), clock=FakeClock(), repository=repository)
    await engine.start()
    set_battery(store, bars=1)
    assert [a.rule for a in engine.active()] == ["critical_battery"]
    await engine.stop()
