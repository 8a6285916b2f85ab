"""A stored secret goes only to the endpoint it was entered for (issue #15, 11).

A LAN token holder could POST a new ``api_url`` or ``devices``, and the app then sent the
stored Shure API key or Sennheiser password to that address, even over plain http. These
tests play that client against a capturing server on loopback.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web

from micboard_desktop.core.config import AppConfig, ManufacturerConfig
from micboard_desktop.data.db import open_database
from micboard_desktop.data.repository import Repository
from micboard_desktop.data.secrets import SERVICE
from micboard_desktop.engine.engine import Engine
from micboard_desktop.engine.secrets import (
    Approval,
    SecretBinding,
    SecretResolver,
    approvals_key,
    manufacturer_key,
)
from tests.conftest import MemoryKeyring

PASSWORD = "s3cret-pass-word"
API_KEY = "shure-api-key-0123"


class Capture:
    """An HTTP server that records every credential it is sent, and answers 401."""

    def __init__(self) -> None:
        self.credentials: list[str] = []
        self.requests = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _any(self, request: web.Request) -> web.Response:
        self.requests += 1
        for header in ("Authorization", "x-api-key"):
            value = request.headers.get(header)
            if value:
                self.credentials.append(value)
        return web.Response(status=401, text="who are you")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._any)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def saw(self, secret: str) -> bool:
        """Return True if any recorded credential carries ``secret``."""
        for value in self.credentials:
            if secret in value:
                return True
            _, _, encoded = value.partition(" ")
            try:
                if secret in base64.b64decode(encoded).decode("utf-8", "replace"):
                    return True
            except ValueError:
                continue
        return False


@pytest.fixture
async def capture() -> AsyncIterator[Capture]:
    server = Capture()
    await server.start()
    yield server
    await server.stop()


async def _wait_until(condition: Callable[[], bool], within: float = 8.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - the server records; nothing to await
            await asyncio.sleep(0.05)


async def _wait_for_requests(server: Capture, count: int = 1, within: float = 8.0) -> None:
    async with asyncio.timeout(within):
        while server.requests < count:  # noqa: ASYNC110 - the server counts; nothing to await
            await asyncio.sleep(0.05)


async def _engine(tmp_path: Path, config: AppConfig) -> Engine:
    repo = Repository(open_database(tmp_path / "m.db"), commit_interval=0.05)
    engine = Engine(config, repo)  # the window's case: approvals only by local acts
    await engine.start()
    return engine


def _sennheiser(devices: tuple[str, ...], tls: str = "insecure") -> ManufacturerConfig:
    return ManufacturerConfig(
        code="sennheiser", name="Sennheiser", devices=devices, tls=tls, timeout=1.0
    )


async def test_devices_changed_remotely_get_no_password_until_approved_locally(
    tmp_path: Path, capture: Capture, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.set_password(SERVICE, manufacturer_key("sennheiser"), PASSWORD)
    approved = "https://127.0.0.1:9"  # where the user entered the password (nothing listens)
    engine = await _engine(tmp_path, AppConfig(manufacturers=(_sennheiser((approved,)),)))
    try:
        # What POST /api/config/ does for a LAN client:
        await engine.set_config("sennheiser", "devices", [capture.url])
        await _wait_for_requests(capture)
        assert not capture.saw(PASSWORD)
        # The user saves the manufacturer in the window: that approves the new address.
        entry = engine.config().manufacturer("sennheiser")
        assert entry is not None
        await engine.save_manufacturer(entry, None)
        # The restarted manufacturer asks at once (its connection and first poll run
        # together), possibly before save_manufacturer returns: wait for the password itself.
        await _wait_until(lambda: capture.saw(PASSWORD))
        assert capture.saw(PASSWORD)
    finally:
        await engine.stop()


async def test_https_is_never_downgraded_to_http_with_the_password(
    tmp_path: Path, capture: Capture, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.set_password(SERVICE, manufacturer_key("sennheiser"), PASSWORD)
    same_port_https = capture.url.replace("http://", "https://")
    engine = await _engine(
        tmp_path, AppConfig(manufacturers=(_sennheiser((same_port_https,), tls="verify"),))
    )
    try:
        await engine.set_config("sennheiser", "devices", [capture.url])  # http, same host:port
        await _wait_for_requests(capture)
        assert not capture.saw(PASSWORD)
    finally:
        await engine.stop()


async def test_shure_api_url_changed_remotely_gets_no_api_key(
    tmp_path: Path, capture: Capture, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.set_password(SERVICE, manufacturer_key("shure"), API_KEY)
    shure = ManufacturerConfig(
        code="shure", name="Shure", api_url="https://127.0.0.1:9", tls="insecure", timeout=1.0
    )
    engine = await _engine(tmp_path, AppConfig(manufacturers=(shure,)))
    try:
        await engine.set_config("shure", "api_url", capture.url)
        await _wait_for_requests(capture, count=1)
        assert not capture.saw(API_KEY)
    finally:
        await engine.stop()


def test_approval_survives_a_restart_and_a_remote_edit_of_the_settings_file(
    memory_keyring: MemoryKeyring,
) -> None:
    first = _sennheiser(("https://10.0.0.9",), tls="verify")
    SecretResolver().approve_first_use(first)
    assert memory_keyring.get_password(SERVICE, approvals_key("sennheiser")) is not None
    # Next start: the settings file now lists an address a LAN client put there.
    edited = _sennheiser(("https://10.0.0.9", "https://203.0.113.5"), tls="verify")
    memory_keyring.set_password(SERVICE, manufacturer_key("sennheiser"), PASSWORD)
    resolver = SecretResolver()
    resolver.approve_first_use(edited)  # an approval exists: first use does not widen it
    binding = resolver.binding(edited)
    assert binding.secret_for("https://10.0.0.9:443/api") == PASSWORD
    assert binding.secret_for("https://203.0.113.5") is None
    assert binding.withheld(edited.devices) == ["https://203.0.113.5"]


def test_a_weaker_tls_mode_withholds_the_secret() -> None:
    approval = Approval(frozenset({"https://10.0.0.9:443"}), "sha256:" + "ab" * 32)
    pinned = SecretBinding(PASSWORD, approval, approval.tls)
    assert pinned.secret_for("https://10.0.0.9") == PASSWORD
    assert SecretBinding(PASSWORD, approval, "insecure").secret_for("https://10.0.0.9") is None
    other_pin = "sha256:" + "cd" * 32
    assert SecretBinding(PASSWORD, approval, other_pin).secret_for("https://10.0.0.9") is None
    assert SecretBinding(PASSWORD, approval, "verify").secret_for("https://10.0.0.9") == PASSWORD


def test_the_demo_rigs_fixed_secrets_never_write_approvals_to_the_users_keyring(
    memory_keyring: MemoryKeyring,
) -> None:
    demo = _sennheiser(("https://127.0.0.1:40001",))
    resolver = SecretResolver(fixed={"sennheiser": PASSWORD})
    resolver.approve(demo)
    assert resolver.binding(demo).secret_for("https://127.0.0.1:40001") == PASSWORD
    assert memory_keyring.get_password(SERVICE, approvals_key("sennheiser")) is None
