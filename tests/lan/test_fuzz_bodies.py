"""Issue 15 item 10: arbitrary bytes and hostile JSON at every POST endpoint.

The JSON is written as text, not dumped from Python values, so it can hold what
``json.dumps`` never writes: numbers with thousands of digits, lone ``\\ud800`` escapes,
``NaN``, deep nesting. Every answer must be below 500 and, when an error, the contract's
JSON error shape. The fake engine accepts anything, so what is checked is the API's own
handling; a second run puts a real (unstarted, in-memory) Engine behind the group and
config endpoints.
"""

import asyncio
import gzip
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from micboard_desktop.core.config import AppConfig, ManufacturerConfig
from micboard_desktop.core.control import EngineControl
from micboard_desktop.core.records import GroupInfo
from micboard_desktop.engine.engine import Engine
from micboard_desktop.lan.openapi import openapi_document
from tests.fakes.database import temporary_repository
from tests.lan.helpers import TOKEN, engine_for, sample_store, server_for

POST_PATHS = sorted(path for path, ops in openapi_document()["paths"].items() if "post" in ops)
FIELDS = ["name", "rename_to", "channels", "action", "manufacturer", "key", "value", "slot"]
ODD_TEXT = ["\ud800", "\udfff", "a\udc80b", "\ud83d", "\x00", "\u202e", "Band", "shure", ""]


def _number() -> st.SearchStrategy[str]:
    digits = st.text(alphabet="0123456789", min_size=1, max_size=6000)
    return st.one_of(
        st.builds(lambda sign, d: sign + d, st.sampled_from(["", "-"]), digits),
        st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-0", "1.5e-400", "1E5"]),
        st.integers().map(str),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
    )


def _string() -> st.SearchStrategy[str]:
    text = st.one_of(st.sampled_from(ODD_TEXT), st.text(max_size=30))
    escaped = st.lists(text, min_size=1, max_size=3).map("".join)
    return escaped.map(lambda s: json.dumps(s, ensure_ascii=True))


def _json_text() -> st.SearchStrategy[str]:
    scalar = st.one_of(st.sampled_from(["null", "true", "false"]), _number(), _string())

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        key = st.one_of(st.sampled_from(FIELDS).map(json.dumps), _string())
        pairs = st.lists(st.tuples(key, inner), max_size=5)
        return st.one_of(
            st.lists(inner, max_size=5).map(lambda items: "[" + ",".join(items) + "]"),
            pairs.map(lambda kv: "{" + ",".join(f"{k}:{v}" for k, v in kv) + "}"),
        )

    return st.recursive(scalar, extend, max_leaves=12)


@st.composite
def _mutated_command(draw: st.DrawFn) -> str:
    """A nearly valid command with one or two fields replaced by hostile JSON."""
    base: dict[str, str] = {
        "name": json.dumps(draw(st.sampled_from(["Band", "Horns"]))),
        "channels": '["shure:rx1:1"]',
        "manufacturer": draw(st.sampled_from(["null", '"shure"'])),
        "key": draw(st.sampled_from(['"polling_interval"', '"devices"', '"name"'])),
        "value": "1",
    }
    for field in draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=2)):
        base[field] = draw(_json_text())
    return "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in base.items()) + "}"


@st.composite
def bodies(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    """Draw a body and its headers: raw bytes, hostile JSON or a mutated command."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        raw = draw(st.binary(max_size=300))
    elif kind == 1:
        raw = draw(_json_text()).encode()
    elif kind == 2:
        raw = draw(_mutated_command()).encode()
    else:
        raw = ("[" * draw(st.integers(500, 20000))).encode()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    content_type = draw(st.sampled_from(["application/json", "text/plain", None]))
    if content_type is not None:
        headers["Content-Type"] = content_type
    encoding = draw(st.sampled_from([None, None, None, "gzip", "gzip-broken", "deflate"]))
    if encoding == "gzip":
        raw, headers["Content-Encoding"] = gzip.compress(raw), "gzip"
    elif encoding is not None:
        headers["Content-Encoding"] = encoding.removesuffix("-broken")
    return raw, headers


def _serve(make_engine: Callable[[], EngineControl]) -> Iterator[str]:
    """Run a control-enabled server on its own loop in a thread; yield its URL."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, str] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        # A short body deadline: aiohttp leaves a body whose deflate stream fails at its
        # very end open (no error reaches the handler), so such a request ends with the
        # deadline's 408 (see micboard_desktop/lan/routes.py, read_object).
        server = server_for(
            sample_store(),
            make_engine(),  # type: ignore[arg-type]
            allow_control=True,
            body_timeout_seconds=1.0,
        )
        loop.run_until_complete(server.start())
        box["url"] = server.url
        ready.set()
        loop.run_forever()
        loop.run_until_complete(server.stop())
        loop.close()

    thread = threading.Thread(target=run, name="lan-body-fuzz", daemon=True)
    thread.start()
    assert ready.wait(10)
    yield box["url"]
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def _fake_engine() -> EngineControl:
    engine = engine_for(sample_store())
    engine.group_list["Band"] = GroupInfo("Band", ("shure:rx1:1",), 1)
    return engine


def _real_engine() -> EngineControl:
    config = AppConfig(manufacturers=(ManufacturerConfig("shure", "Shure"),))
    return Engine(config, temporary_repository())


@pytest.fixture(scope="module")
def fake_url() -> Iterator[str]:
    yield from _serve(_fake_engine)


@pytest.fixture(scope="module")
def real_url() -> Iterator[str]:
    yield from _serve(_real_engine)


def check_answer(response: httpx.Response) -> None:
    """Fail on a 5xx, a non-JSON error, or anything leaking the token."""
    assert response.status_code < 500, response.text
    assert TOKEN not in response.text
    if response.status_code >= 400:
        assert response.headers["Content-Type"].startswith("application/json"), response.text
        data: dict[str, Any] = response.json()
        assert set(data) == {"error"}
        assert set(data["error"]) == {"code", "message"}
        assert isinstance(data["error"]["code"], str)
        assert isinstance(data["error"]["message"], str)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(POST_PATHS),
    body=bodies(),
    manufacturer=st.one_of(st.none(), st.sampled_from(["shure", "acme"]), st.text(max_size=8)),
)
def test_any_body_at_any_post_endpoint_is_answered_without_a_5xx(
    fake_url: str, path: str, body: tuple[bytes, dict[str, str]], manufacturer: str | None
):
    raw, headers = body
    params = {} if manufacturer is None else {"manufacturer": manufacturer}
    with httpx.Client(base_url=fake_url, timeout=10) as client:
        check_answer(client.post(path, content=raw, headers=headers, params=params))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(["/api/group/", "/api/config/"]), body=bodies())
def test_any_body_reaching_a_real_engine_is_answered_without_a_5xx(
    real_url: str, path: str, body: tuple[bytes, dict[str, str]]
):
    raw, headers = body
    with httpx.Client(base_url=real_url, timeout=10) as client:
        check_answer(client.post(path, content=raw, headers=headers))
