"""LAN settings that cannot work are refused in one line before any device is touched (#15, 3)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from micboard_desktop.app.lan_runtime import check_lan_settings
from micboard_desktop.core.config import LanSettings
from micboard_desktop.core.errors import ConfigError


@pytest.fixture
def busy_port() -> Iterator[int]:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    yield holder.getsockname()[1]
    holder.close()


class _Device:
    """A TCP listener standing in for a receiver: it records whether anyone connected."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]

    def was_contacted(self) -> bool:
        try:
            conn, _ = self.sock.accept()
        except TimeoutError:
            return False
        conn.close()
        return True


def test_port_in_use_is_named(busy_port: int) -> None:
    settings = LanSettings(enabled=True, host="127.0.0.1", port=busy_port)
    expected = re.escape(f"lan.port: 127.0.0.1:{busy_port} is already in use")
    with pytest.raises(ConfigError, match=expected):
        check_lan_settings(settings, lambda: None)


def test_address_this_machine_does_not_have_is_named() -> None:
    settings = LanSettings(enabled=True, host="192.0.2.77", port=8058)  # TEST-NET-1, never ours
    with pytest.raises(ConfigError, match=re.escape("lan.host: cannot serve on 192.0.2.77")):
        check_lan_settings(settings, lambda: "token")


def test_lan_bind_without_token_is_refused_and_loopback_needs_none() -> None:
    asked: list[bool] = []

    def token() -> str | None:
        asked.append(True)
        return None

    with pytest.raises(ConfigError, match="needs a LAN token"):
        check_lan_settings(LanSettings(enabled=True, host="0.0.0.0", port=0), token)
    asked.clear()
    check_lan_settings(LanSettings(enabled=True, host="127.0.0.1", port=0), token)
    assert asked == []  # loopback: the keyring is not even asked
    check_lan_settings(LanSettings(enabled=False, host="0.0.0.0", port=1), token)


def test_headless_refusal_is_one_line_and_touches_no_device(tmp_path: Path, busy_port: int) -> None:
    device = _Device()
    config = tmp_path / "show.toml"
    config.write_text(
        f'[[manufacturers]]\ncode = "shure"\ndevices = ["127.0.0.1:{device.port}"]\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "micboard_desktop", "headless", "--config", str(config),
         "--data-dir", str(tmp_path / "data"), "--lan", f"127.0.0.1:{busy_port}"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"micboard-desktop: config error: lan.port: 127.0.0.1:{busy_port} is already in use"
    ]
    assert not device.was_contacted()
    device.sock.close()
