"""The command line of CONTRACT §1, run as a user would (a real subprocess)."""

import subprocess
import sys
from pathlib import Path

import pytest

from micboard_desktop import __version__


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "micboard_desktop", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_version():
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"micboard-desktop {__version__}"


def test_help_lists_every_command():
    result = run("--help")
    assert result.returncode == 0
    for command in ("headless", "status", "poll", "simulate", "--demo"):
        assert command in result.stdout


@pytest.mark.parametrize("command", ["headless", "poll"])
def test_unknown_config_key_exits_2_with_one_line_naming_it(tmp_path: Path, command: str):
    config = tmp_path / "bad.toml"
    config.write_text('[micboard]\ndefault_polling_interval = 10\nfrobnicate = true\n')
    args = [command, "--config", str(config)]
    if command == "poll":
        args.insert(1, "--once")
    result = run(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "micboard.frobnicate" in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_unknown_flag_exits_2_in_one_line():
    result = run("status", "--bogus")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "--bogus" in result.stderr


def test_missing_config_file_exits_2(tmp_path: Path):
    result = run("headless", "--config", str(tmp_path / "nope.toml"))
    assert result.returncode == 2
    assert "not found" in result.stderr


@pytest.mark.parametrize("command", ["headless", "poll"])
def test_unknown_manufacturer_code_exits_2_naming_the_key(tmp_path: Path, command: str):
    config = tmp_path / "show.toml"
    config.write_text('[[manufacturers]]\ncode = "shur"\n')
    args = [command, "--config", str(config), "--data-dir", str(tmp_path / "d")]
    if command == "poll":
        args.insert(1, "--once")
    result = run(*args)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "micboard-desktop: config error: manufacturers[0].code: no plugin for 'shur' "
        "(installed: micboard, sennheiser, shure)"
    ]
