"""packaging/smoke.py against a fake build: what passes, fails and may be skipped."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from tests.packaging._modules import load

smoke = load("smoke")

FAKE_APP = r"""
import json, os, signal, sys, time
from pathlib import Path

args = sys.argv[1:]
mode = os.environ.get("FAKE_HEADLESS", "run")


def wait_for(sig):
    signal.signal(sig, lambda *_: sys.exit(0))
    while True:
        time.sleep(0.1)


def value(flag):
    return args[args.index(flag) + 1]


if args == ["--version"]:
    print("micboard-desktop 9.9.9")
elif args[:1] == ["simulate"]:
    print(json.dumps({"shure_receivers": [{"host": "127.0.0.1", "port": 1}],
                      "sennheiser_ssc2": [{"url": "http://127.0.0.1:2", "password": "pw"}]}),
          flush=True)
    wait_for(signal.SIGINT)
elif args[:1] == ["headless"]:
    if mode == "not-available":
        print("micboard-desktop: not available yet: no engine", file=sys.stderr)
        sys.exit(3)
    if mode == "exit3":
        print("micboard-desktop: error: something else", file=sys.stderr)
        sys.exit(3)
    assert os.environ["SENNHEISER_API_KEY"] == "pw"
    assert "127.0.0.1:1" in Path(value("--config")).read_text()
    data = Path(value("--data-dir"))
    data.mkdir(parents=True)
    (data / "micboard.db").write_bytes(b"")
    wait_for(signal.SIGTERM)
elif args[:1] == ["status"]:
    print("MANUFACTURER  DEVICE  TRANSPORT  STATE")
    if (Path(value("--data-dir")) / "micboard.db").is_file():
        print("shure  shure:127.0.0.1:1  tcp  connected")
else:  # the window
    data = Path(value("--data-dir"))
    data.mkdir(parents=True)
    (data / "micboard.db").write_bytes(b"")
    Path(value("--screenshot")).write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
"""


def make_build(root: Path, *, ship_tests: bool = False) -> Path:
    build = root / "Micboard Desktop"
    internal = build / "_internal"
    migrations = internal / "micboard_desktop" / "data" / "migrations"
    (migrations / "versions").mkdir(parents=True)
    for name in ("env.py", "script.py.mako", "versions/0001_baseline.py"):
        (migrations / name).write_text("", encoding="utf-8")
    (internal / "resources").mkdir()
    meta = internal / "micboard_desktop-9.9.9.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text("Name: micboard-desktop\nVersion: 9.9.9\n", encoding="utf-8")
    if ship_tests:
        (internal / "tests").mkdir()
    for name in ("Micboard Desktop", "micboard-desktop"):
        exe = build / name
        exe.write_text(f"#!{sys.executable}\n{FAKE_APP}", encoding="utf-8")
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return build


def run_smoke(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, **build: bool
) -> tuple[int, dict[str, str]]:
    monkeypatch.setenv("FAKE_HEADLESS", mode)
    out = tmp_path / "smoke.json"
    argv = [str(make_build(tmp_path, **build)), "--json", str(out)]
    code = smoke.main([*argv, "--headless-seconds", "0.5", "--quit-after", "0.1"])
    report = json.loads(out.read_text(encoding="utf-8"))
    return code, {s["step"]: s["outcome"] for s in report["steps"]}


pytestmark = pytest.mark.skipif(os.name == "nt", reason="the fake build is a POSIX script")


def test_a_good_build_passes_every_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, steps = run_smoke(tmp_path, monkeypatch, "run")
    assert steps == dict.fromkeys(
        ["contents", "version", "simulate", "headless", "simulate-stop", "gui", "status"],
        "PASSED",
    )
    assert code == 0


def test_an_early_exit_of_headless_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for mode in ("not-available", "exit3"):
        code, steps = run_smoke(tmp_path / mode, monkeypatch, mode)
        assert steps["headless"] == "FAILED"
        assert code == 1


def test_shipping_the_tests_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, steps = run_smoke(tmp_path, monkeypatch, "run", ship_tests=True)
    assert steps["contents"] == "FAILED"
    assert code == 1


def test_the_headless_config_points_at_every_simulator() -> None:
    import tomllib

    text = smoke.config_for(
        {
            "shure_receivers": [{"host": "127.0.0.1", "port": 5}],
            "sennheiser_ssc2": [{"url": "http://127.0.0.1:6"}],
        }
    )
    config = tomllib.loads(text)
    devices = {m["code"]: m["devices"] for m in config["manufacturers"]}
    assert devices == {"shure": ["127.0.0.1:5"], "sennheiser": ["http://127.0.0.1:6"]}
