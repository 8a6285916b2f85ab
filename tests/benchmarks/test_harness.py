"""Smoke test of the benchmark harness: smallest configurations, result shape only.

Performance is never asserted here: only that the harness runs end to end and reports
the expected keys with positive numbers.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from benchmarks import history, ingest
from benchmarks.report import table

pytestmark = pytest.mark.timeout(60)


def _positive(doc: dict[str, object], *keys: str) -> None:
    for key in keys:
        value = doc[key]
        assert isinstance(value, int | float), key
        assert value > 0, key


def test_ingest_smallest_pair_reports_engine_and_simulator_figures() -> None:
    result = ingest.run_pair(12, duration=2.0, warmup=0.5)
    engine = result["engine"]
    _positive(engine, "channels", "connections", "cpu_percent", "rss_mb", "meter_samples_per_s")
    assert engine["connected_at_end"] == engine["connections"]
    assert result["rig_channels"] >= 12
    _positive(result["simulator"], "shure_samples_sent_per_s")
    assert "loop_lag_p99_ms" in engine


def test_history_smallest_run_reports_growth_and_chart_load() -> None:
    result = asyncio.run(history.measure(channels=3, seconds=180))
    _positive(result, "rows_per_channel_hour", "db_bytes_per_channel_hour", "chart_buckets",
              "chart_load_p50_ms", "chart_load_p99_ms")
    assert result["chart_buckets"] == 180


def test_table_and_json_round_trip(tmp_path: Path) -> None:
    doc = {"results": {"history": asyncio.run(history.measure(channels=2, seconds=120))}}
    out = tmp_path / "latest.json"
    out.write_text(json.dumps(doc))
    text = table(json.loads(out.read_text()))
    assert "1 h chart" in text
    assert "MET" in text or "MISSED" in text


def test_lan_latency_smallest_run_reports_both_paths_and_the_table_rates_them() -> None:
    from benchmarks import lan_latency

    result = asyncio.run(lan_latency.measure(channels=12, probes=4))
    assert result["probes"] == 4
    for path in ("sse", "data"):
        assert result[path]["n"] + result[path]["missed"] == 4
        _positive(result[path], "n", "p50_ms", "max_ms")
    assert isinstance(result["data_stale_answers"], int)
    # The probes run here and the bulk in its own process; both reach the engine.
    assert result["rig_channels"] > result["probe_channels"] > 0
    assert result["bulk_sim"]["cpu_percent"] is not None
    assert result["watchers_cpu_percent"]["data"] is not None
    text = table({"results": {"lan_latency": {"12": result}}})
    assert "change -> /api/events/ p50" in text
    assert "bulk simulator / watchers" in text
    assert "MET" in text or "MISSED" in text


def test_message_cost_reports_each_part_and_a_broken_part_does_not_hide_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from benchmarks import message_cost

    def broken(quick: bool) -> dict[str, object]:
        raise RuntimeError("simulator went away")

    def fine(quick: bool) -> dict[str, object]:
        return {"meters": {"us_per_message": 4.5, "put_receiver_per_second": 0.0},
                "channels": {"ulxd": 4}, "note": "x"}

    monkeypatch.setattr(message_cost, "PARTS", {"a": broken, "b": fine})
    result = message_cost.run(quick=True)
    assert "simulator went away" in result["a"]["error"]
    assert message_cost.leaves(result["b"]) == [
        ("meters.us_per_message", 4.5), ("meters.put_receiver_per_second", 0.0),
        ("channels.ulxd", 4), ("note", "x")]
    text = table({"results": {"message_cost": result}})
    assert "b.meters.us_per_message" in text
    assert "4.5 µs" in text
    assert "a.error" in text
    assert "channels.ulxd" not in text  # sizes are context, not figures


def test_the_table_opens_with_the_machine_speed_probe_when_the_run_took_it() -> None:
    from benchmarks.common import speed_probe_ms

    first = speed_probe_ms(rounds=1)
    assert first > 0
    doc = {"machine": {}, "speed_probe_ms": {"start": first, "end": 2 * first}, "results": {}}
    lines = table(doc).splitlines()
    assert lines[2].startswith("machine")
    assert f"{first} ms at the start, {2 * first} ms at the end" in lines[2]
    assert not any(x.startswith("machine") for x in table({"results": {}}).splitlines())
