"""``micboard-desktop replay``: mistakes end in one line and exit 2; headless serves the show."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from benchmarks.show_gen import ShowPlan
from micboard_desktop.cli import main
from micboard_desktop.data.db import open_database


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["replay", *args])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("args", "words"), [
    (["--speed", "0"], "expected a speed from 1 to 60"),
    (["--speed", "61"], "expected a speed from 1 to 60"),
    (["--speed", "fast"], "expected a speed from 1 to 60"),
    (["--lan", "nowhere"], "expected HOST:PORT"),
    (["--from"], "expected one argument"),
])
def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                              args: list[str], words: str) -> None:
    code, err = _run(capsys, "--data-dir", str(tmp_path), "--headless", *args)
    assert code == 2
    assert words in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_missing_database_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, err = _run(capsys, "--data-dir", str(tmp_path / "nothing"), "--headless")
    assert code == 2
    assert "There is no database at" in err
    assert "Traceback" not in err


def test_not_a_database_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "micboard.db").write_text("hello")
    code, err = _run(capsys, "--data-dir", str(tmp_path), "--headless")
    assert code == 2
    assert "is not a Micboard Desktop database" in err


def test_empty_database_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    open_database(tmp_path / "micboard.db").close()  # every table, no recording
    code, err = _run(capsys, "--data-dir", str(tmp_path), "--headless")
    assert code == 2
    assert "holds no recorded history to replay" in err


def test_span_without_data_and_bad_times_exit_2(
    capsys: pytest.CaptureFixture[str], show: tuple[Path, ShowPlan],
) -> None:
    folder = str(show[0].parent)
    code, err = _run(capsys, "--data-dir", folder, "--headless", "--from", "2030-01-01")
    assert code == 2
    assert "nothing was recorded between" in err
    assert "the recording runs from" in err
    code, err = _run(capsys, "--data-dir", folder, "--headless", "--to", "yesterday")
    assert code == 2
    assert "--to:" in err
    assert "is not a time" in err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_headless_serves_the_replay_on_the_lan_api(show: tuple[Path, ShowPlan]) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "micboard_desktop", "replay", "--data-dir", str(show[0].parent),
         "--headless", "--speed", "60", "--lan", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "REPLAY" in first
        assert f"127.0.0.1:{port}/api/data/" in first
        deadline = time.monotonic() + 20
        doc = httpx.get(f"http://127.0.0.1:{port}/api/data/").json()
        while not doc["receivers"] and time.monotonic() < deadline:
            time.sleep(0.2)
            doc = httpx.get(f"http://127.0.0.1:{port}/api/data/").json()
        names = {c["name"] for r in doc["receivers"] for c in r["channels"]}
        assert "Ch 1" in names
        assert "Ch 12" in names
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
