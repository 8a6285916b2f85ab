"""The 60-second soak (issue #11): every fault, a kill -9 and restart, all checks green."""

from __future__ import annotations

from pathlib import Path

from benchmarks.soak.driver import run_soak
from benchmarks.soak.options import SoakOptions
from benchmarks.soak.report import render


async def test_sixty_second_soak_passes_every_check(tmp_path: Path) -> None:
    options = SoakOptions(
        duration=60.0,
        seed=7,
        receivers=6,  # one receiver of each family: 23 channels, 7 connections
        work_dir=tmp_path / "work",
    )
    result = await run_soak(options)
    report = render(result)
    (tmp_path / "report.md").write_text(report)
    failed = [f"{c.name}: {c.detail}" for c in result.checks if not c.passed]
    assert not failed, report
    assert result.passed
    assert all(count > 0 for count in result.coverage.values()), result.coverage
    assert "**Result: PASS**" in report
