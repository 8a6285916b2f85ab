"""Show markers in the database: stored, listed by time, renamed, moved, deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from micboard_desktop.data.repository import Repository

T0 = datetime(2026, 12, 7, 19, 30, tzinfo=UTC)


async def test_markers_are_stored_listed_in_time_order_and_filtered(repo: Repository):
    late = await repo.add_marker(T0 + timedelta(minutes=50), "Act 2")
    early = await repo.add_marker(T0, "Act 1")
    assert late.id != early.id
    listed = await repo.list_markers()
    assert [(m.label, m.ts) for m in listed] == [
        ("Act 1", T0),
        ("Act 2", T0 + timedelta(minutes=50)),
    ]
    window = await repo.list_markers(T0 + timedelta(minutes=1), T0 + timedelta(hours=1))
    assert [m.label for m in window] == ["Act 2"]
    assert await repo.list_markers(until=T0) == []


async def test_markers_are_renamed_moved_and_deleted(repo: Repository):
    marker = await repo.add_marker(T0, "Song 6")
    assert await repo.update_marker(marker.id, label="Song 7")
    assert await repo.update_marker(marker.id, ts=T0 + timedelta(seconds=30))
    (stored,) = await repo.list_markers()
    assert (stored.label, stored.ts) == ("Song 7", T0 + timedelta(seconds=30))
    assert not await repo.update_marker(marker.id + 99, label="nobody")
    assert await repo.delete_marker(marker.id)
    assert not await repo.delete_marker(marker.id)
    assert await repo.list_markers() == []


async def test_a_naive_marker_time_is_refused(repo: Repository):
    with pytest.raises(ValueError):
        await repo.add_marker(datetime(2026, 12, 7, 19, 30), "naive")
