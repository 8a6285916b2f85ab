"""A real Mosquitto broker on loopback, started per test with a temporary configuration."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from tests.integrations.helpers import free_port

USER = "micboard"
PASSWORD = "broker-pass-93c1"


def mosquitto_binary() -> str | None:
    """Return the broker's path (Debian installs it in /usr/sbin), or None."""
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin" + os.pathsep + "/usr/local/sbin"
    return shutil.which("mosquitto", path=path)


@dataclass
class Broker:
    """A running broker: a plain listener with a password and a TLS listener."""

    port: int
    tls_port: int
    ca_file: Path
    process: subprocess.Popen[bytes]
    log: Path


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("mosquitto exited: " + log.read_text(errors="replace")[-2000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("mosquitto did not listen within 10 s")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """Start Mosquitto on two loopback ports; skip (saying why) only if it is not installed."""
    binary = mosquitto_binary()
    if binary is None:
        pytest.skip("mosquitto is not installed (scripts/setup installs the Debian package)")
    passwd = shutil.which("mosquitto_passwd")
    assert passwd is not None, "mosquitto_passwd comes with mosquitto"
    folder = tmp_path / "broker"
    folder.mkdir()
    subprocess.run([passwd, "-b", "-c", str(folder / "passwd"), USER, PASSWORD], check=True,
                   capture_output=True)
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    cert.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
    cert.private_key_pem.write_to_path(str(folder / "key.pem"))
    port, tls_port = free_port(), free_port()
    run_as = "user root\n" if os.geteuid() == 0 else ""  # else it drops to 'mosquitto'
    (folder / "mosquitto.conf").write_text(
        f"{run_as}persistence false\n"
        "log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n"
        "per_listener_settings false\n"
        "allow_anonymous false\n"
        f"password_file {folder / 'passwd'}\n"
        f"listener {port} 127.0.0.1\n"
        f"listener {tls_port} 127.0.0.1\n"
        f"cafile {folder / 'ca.pem'}\ncertfile {folder / 'cert.pem'}\n"
        f"keyfile {folder / 'key.pem'}\n",
        encoding="utf-8",
    )
    log = folder / "mosquitto.log"
    with log.open("wb") as out:
        process = subprocess.Popen([binary, "-c", str(folder / "mosquitto.conf")],
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_listening(port, process, log)
        _wait_listening(tls_port, process, log)
        yield Broker(port, tls_port, folder / "ca.pem", process, log)
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
