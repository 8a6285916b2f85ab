"""Shared helpers for the LAN API tests: schema, sample store, server factory, SSE reader."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jsonschema

from micboard_desktop.core.config import AppConfig, LanSettings, ManufacturerConfig
from micboard_desktop.core.model import (
    Battery,
    ConnectionInfo,
    ConnectionStatus,
    Health,
    HealthStatus,
    Manufacturer,
    Transmitter,
    Transport,
)
from micboard_desktop.core.store import StateStore
from micboard_desktop.lan.auth import TokenSource
from micboard_desktop.lan.server import LanServer
from tests.core.builders import make_channel, make_receiver
from tests.fakes.engine import FakeEngine

SHARED_SCHEMA = Path(__file__).parents[2].parent / "shared/contracts/api-data.schema.json"
"""The design documents' contract, outside the repository (only for the drift check)."""
LOCAL_SCHEMA = Path(__file__).parents[2] / "micboard_desktop" / "lan" / "api-data.schema.json"
"""The repository's own copy of the contract, the one the app ships and the tests read."""
TOKEN = "lan-test-token-7f3a9c"
NOW = datetime(2026, 11, 26, 20, 14, 3, 120000, tzinfo=UTC)


def contract_schema() -> dict[str, Any]:
    """Return the contract schema from the repository's own copy."""
    data: dict[str, Any] = json.loads(LOCAL_SCHEMA.read_text(encoding="utf-8"))
    return data


_VALIDATOR = jsonschema.Draft202012Validator(
    contract_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def assert_valid(document: object) -> None:
    """Fail with every schema violation of ``document``."""
    errors = sorted(_VALIDATOR.iter_errors(document), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def sample_store() -> StateStore:
    """Return a store with two manufacturers, an offline receiver and a channel without tx."""
    store = StateStore()
    with store.batch():
        store.put_manufacturer(
            Manufacturer("shure", "Shure Incorporated", Health(HealthStatus.OK, None, NOW))
        )
        store.put_manufacturer(Manufacturer("sennheiser", "Sennheiser"))
        connected = ConnectionInfo(Transport.TCP, ConnectionStatus.CONNECTED, NOW)
        store.put_receiver(
            replace(
                make_receiver(
                    "shure:rx1",
                    connection=connected,
                    ip="172.21.2.149",
                    serial="4192630196",
                    firmware="2.7.6.0",
                    last_seen=NOW,
                ),
                channels=(
                    make_channel(
                        "shure:rx1",
                        1,
                        name="Lead Vox",
                        performer="Jane Doe",
                        groups=("Band",),
                        updated_at=NOW,
                    ),
                    make_channel("shure:rx1", 2, transmitter=None),
                    make_channel(
                        "shure:rx1",
                        3,
                        transmitter=Transmitter(
                            model="ULXD1", battery=Battery(bars=None, percent=None, minutes=None)
                        ),
                    ),
                ),
            )
        )
        store.put_receiver(
            make_receiver(
                "sennheiser:rx2",
                model="EW-DX EM 4",
                name="EM4",
                online=False,
                connection=ConnectionInfo(Transport.SSE, ConnectionStatus.ERROR, NOW, 2, "boom"),
            )
        )
    return store


def engine_for(store: StateStore) -> FakeEngine:
    """Return a fake engine configured with the store's manufacturers."""
    entries = tuple(
        ManufacturerConfig(code=code, name=m.name)
        for code, m in store.snapshot().manufacturers.items()
    )
    return FakeEngine(app_config=AppConfig(manufacturers=entries))


def server_for(
    store: StateStore,
    engine: FakeEngine | None = None,
    *,
    host: str = "127.0.0.1",
    allow_control: bool = False,
    token: TokenSource = TOKEN,
    cache_timeout: float = 30.0,
    websocket_broadcasting: bool = True,
    **kwargs: Any,
) -> LanServer:
    """Return a (not yet started) server on an ephemeral loopback port."""
    settings = LanSettings(enabled=True, host=host, port=0, allow_control=allow_control)
    return LanServer(
        store,
        engine if engine is not None else engine_for(store),
        settings,
        token=token,
        cache_timeout=cache_timeout,
        websocket_broadcasting=websocket_broadcasting,
        bind_host="127.0.0.1",
        **kwargs,
    )


def auth(token: str = TOKEN) -> dict[str, str]:
    """Return the Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


async def sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, Any]]:
    """Yield ``(event, data)`` of an SSE stream (``("comment", text)`` for comments)."""
    event, data = "message", ""
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield "comment", line[1:].strip()
        elif line.startswith("event:"):
            event = line.partition(":")[2].strip()
        elif line.startswith("data:"):
            data += line.partition(":")[2].strip()
        elif line == "":
            if data:
                yield event, json.loads(data)
            event, data = "message", ""


def renamed(store: StateStore, rid: str, channel: int, name: str) -> None:
    """Rename one channel of a receiver in the store."""
    rx = store.snapshot().receivers[rid]  # type: ignore[index]
    channels = tuple(replace(c, name=name) if c.number == channel else c for c in rx.channels)
    store.put_receiver(replace(rx, channels=channels))
