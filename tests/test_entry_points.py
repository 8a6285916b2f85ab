"""The app as a user starts it: ``simulate`` and ``--demo`` as real processes."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest


def test_simulate_prints_endpoints_first_and_stops_cleanly_on_sigint():
    proc = subprocess.Popen(
        [sys.executable, "-m", "micboard_desktop", "simulate", "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        endpoints = json.loads(proc.stdout.readline())
        assert set(endpoints) >= {"shure_system_api", "shure_receivers", "sennheiser_ssc2"}
        api = endpoints["shure_system_api"][0]
        answer = httpx.get(
            f"{api['url']}/api/v1/devices", headers={"x-api-key": api["api_key"]}, timeout=5
        )
        assert answer.status_code == 200
        assert {"pageInfo", "edges"} <= set(answer.json())
        assert httpx.get(f"{api['url']}/api/v1/devices", timeout=5).status_code == 401
        receiver = endpoints["shure_receivers"][0]
        assert {"host", "port", "model", "channels"} <= set(receiver)
        ssc = endpoints["sennheiser_ssc2"][0]
        assert {"url", "username", "password", "product", "channels"} <= set(ssc)
        identity = httpx.get(f"{ssc['url']}/api/device/identity", timeout=5, verify=False)
        assert identity.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_simulate_with_a_bad_rig_file_exits_2(tmp_path: Path):
    rig = tmp_path / "rig.toml"
    rig.write_text("[[receivers]]\nbogus = 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "micboard_desktop", "simulate", "--config", str(rig)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.ui
def test_demo_window_shows_live_channels_from_both_makers_and_quits(tmp_path: Path):
    shot = tmp_path / "demo.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-m", "micboard_desktop", "--demo", "--data-dir", str(tmp_path / "d"),
         "--quit-after", "8", "--screenshot", str(shot)],
        capture_output=True, text=True, timeout=90, env=env,
    )
    assert result.returncode == 0, result.stderr
    assert shot.stat().st_size > 10_000
    log = (tmp_path / "d" / "logs" / "micboard-desktop.log").read_text()
    # Eight receivers by command strings (ULX-D x2, AD, SLX-D, P10T x2, MXW, QLX-D), one UHF-R
    # over UDP, plus the System API (in --demo since issue #15).
    assert "shure: 10 connection(s) started" in log
    # SSCv2: EM4 Band, EM4 Horns, Spectera; SSCv1: EM4 Band again (merged into one receiver),
    # an EM 6000 and two chargers (CHG 70N, L 6000); MCP: a G4 EM and an IEM G4 SR.
    assert "sennheiser: 9 connection(s) started" in log
