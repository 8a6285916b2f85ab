"""The 2,000-channel startup figure's table rows and connection marks (no app run here)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.report import table
from benchmarks.startup_rig import _up_at, rows


def _result(first_tile: float | None) -> dict[str, object]:
    summary: dict[str, object] = {
        "window_shown": {"median_s": 1.2, "max_s": 1.3, "n": 3, "of": 3},
        "first_tile_painted": {"median_s": first_tile, "max_s": first_tile, "n": 3, "of": 3},
        "all_connected": {"median_s": None, "max_s": None, "n": 0, "of": 3},
        "up_at_2s_median": 100,
        "up_at_5s_median": 400,
        "up_at_10s_median": 593,
    }
    return {"runs": [{}, {}, {}], "summary": summary, "channels": 2000, "connections": 593}


def test_the_first_live_tile_is_judged_against_two_seconds() -> None:
    met = {r[1]: r for r in rows(_result(1.5))}
    missed = {r[1]: r for r in rows(_result(12.3))}
    key = "2000 ch (593 connections): start -> first live tile (window with live data), median of 3"
    assert met[key][2:] == ("1.5 s (max 1.5 s)", "< 2 s", "MET")
    assert missed[key][2:] == ("12.3 s (max 12.3 s)", "< 2 s", "MISSED")
    up = missed["2000 ch (593 connections): connections up at 2/5/10 s (median)"]
    assert up[2] == "100, 400, 593"
    never = missed["2000 ch (593 connections): start -> every connection up, median of 3"]
    assert never[2] == "n/a"


def test_connections_up_at_a_mark_are_the_last_sample_taken_by_then() -> None:
    samples = [[100.5, 0, 0], [101.9, 10, 403], [102.2, 50, 593], [104.9, 300, 593]]
    assert _up_at(samples, 100.0, 2.0) == 10
    assert _up_at(samples, 100.0, 5.0) == 300
    assert _up_at(samples, 100.0, 0.1) == 0  # the engine had not started: nothing up


def test_the_results_table_has_the_section() -> None:
    doc = {"machine": {}, "results": {"startup_rig": _result(3.0)}}
    text = table(doc)
    assert "startup_rig" in text
    assert "MISSED" in text


def test_the_table_says_whether_the_timed_starts_had_compiled_bytecode() -> None:
    compiled = {r[1]: r[2] for r in rows({**_result(1.5), "bytecode_compiled": True,
                                          "compile_s": 0.4})}
    not_compiled = {r[1]: r[2] for r in rows({**_result(1.5), "bytecode_compiled": False,
                                              "compile_s": 0.1})}
    key = "app bytecode compiled before timing, as installed"
    assert compiled[key] == "yes (0.4 s, not timed)"
    assert not_compiled[key].startswith("NO")
    assert key not in {r[1] for r in rows(_result(1.5))}  # older results: no such row


def test_compile_bytecode_leaves_an_importable_cache_for_every_app_module() -> None:
    import importlib.util

    from benchmarks.common import REPO, compile_bytecode

    done = compile_bytecode()
    assert done["bytecode_compiled"] is True
    module = REPO / "micboard_desktop" / "core" / "fast_init.py"
    cached = Path(importlib.util.cache_from_source(str(module)))
    assert cached.exists()
    assert cached.stat().st_mtime >= module.stat().st_mtime


def test_the_demo_startup_table_says_so_too() -> None:
    summary = {"window_shown": {"median_s": 1.0}, "first_tile_painted": {"median_s": 1.2}}
    doc = {"machine": {}, "results": {"startup": {"summary": summary, "bytecode_compiled": True,
                                                  "compile_s": 0.3}}}
    line = next(x for x in table(doc).splitlines() if "bytecode" in x)
    assert "yes (0.3 s, not timed)" in line
