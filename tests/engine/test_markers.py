"""The engine's show markers: dropped at now, numbered, edited, announced, kept across restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from micboard_desktop.core.store import Changes, Topic
from micboard_desktop.engine.markers import MAX_LABEL, clean_label
from tests.engine.test_engine import open_engine


async def test_markers_drop_at_now_get_numbers_and_survive_a_restart(tmp_path: Path):
    engine = await open_engine(tmp_path)
    seen: list[Changes] = []
    engine.store.subscribe(seen.append)
    try:
        before = datetime.now(UTC)
        first = await engine.add_marker()
        second = await engine.add_marker("  Act\n2  ")
        third = await engine.add_marker()
        assert before <= first.ts <= datetime.now(UTC)
        assert [m.label for m in engine.markers()] == ["Marker 1", "Act 2", "Marker 3"]
        assert any(Topic.MARKERS in c.topics for c in seen)
        moved = await engine.update_marker(first.id, ts=third.ts + timedelta(hours=1))
        assert moved is not None
        assert moved.label == "Marker 1"
        assert [m.id for m in engine.markers()] == [second.id, third.id, first.id]
        renamed = await engine.update_marker(second.id, label="   ")
        assert renamed is not None
        assert renamed.label == "Act 2"
        assert await engine.update_marker(999, label="x") is None
        assert await engine.delete_marker(third.id)
        assert not await engine.delete_marker(third.id)
        fourth = await engine.add_marker()
        assert fourth.label == "Marker 3"  # "Marker 1" is still there: no second one
    finally:
        await engine.stop()
    again = await open_engine(tmp_path)
    try:
        # "Marker 1" was moved after the others; the fourth dropped just now sits before it.
        assert [m.label for m in again.markers()] == ["Act 2", "Marker 3", "Marker 1"]
    finally:
        await again.stop()


def test_labels_are_one_line_and_bounded():
    assert clean_label("  a\tb\n c ") == "a b c"
    assert clean_label(" \n ") is None
    assert clean_label(None) is None
    assert len(clean_label("x" * 1000) or "") == MAX_LABEL
