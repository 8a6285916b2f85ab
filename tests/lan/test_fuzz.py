"""Property-based fuzzing of the API, driven by its own OpenAPI description.

schemathesis is not a dependency, so this is the equivalent with hypothesis: paths,
methods, query strings, headers and bodies are drawn from ``/api/openapi.json`` (plus
junk), and every answer must be a non-5xx that matches the documented schema.
"""

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from micboard_desktop.core.records import GroupInfo
from micboard_desktop.lan.openapi import openapi_document
from tests.lan.helpers import TOKEN, assert_valid, engine_for, sample_store, server_for

DOC = openapi_document()
SCHEMAS = DOC["components"]["schemas"]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
CODES = ["shure", "sennheiser"]
RECEIVER_IDS = ["shure:rx1", "sennheiser:rx2"]


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """Run a control-enabled, token-protected server on its own loop in a thread."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, str] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        store = sample_store()
        engine = engine_for(store)
        engine.group_list["Band"] = GroupInfo("Band", ("shure:rx1:1",), 1)
        server = server_for(
            store, engine, host="0.0.0.0", allow_control=True, keep_alive_seconds=0.05
        )
        loop.run_until_complete(server.start())
        box["url"] = server.url
        ready.set()
        loop.run_forever()
        loop.run_until_complete(server.stop())
        loop.close()

    thread = threading.Thread(target=run, name="lan-fuzz-server", daemon=True)
    thread.start()
    assert ready.wait(10)
    yield box["url"]
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def from_schema(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Return values for the subset of JSON Schema the request bodies use."""
    if "$ref" in schema:
        return from_schema(SCHEMAS[schema["$ref"].rsplit("/", 1)[1]], depth)
    if "anyOf" in schema:
        return st.one_of([from_schema(option, depth) for option in schema["anyOf"]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kinds = schema.get("type", "string")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    options: list[st.SearchStrategy[Any]] = []
    for kind in kinds:
        if kind == "object":
            props = {k: from_schema(v, depth + 1) for k, v in schema.get("properties", {}).items()}
            required = [k for k in schema.get("required", []) if k in props]
            optional = {k: v for k, v in props.items() if k not in required}
            options.append(
                st.fixed_dictionaries({k: props[k] for k in required}, optional=optional)
            )
        elif kind == "array":
            options.append(st.lists(from_schema(schema.get("items", {}), depth + 1), max_size=4))
        elif kind == "string":
            options.append(st.one_of(st.sampled_from(["polling_interval", *CODES]), st.text()))
        elif kind == "integer":
            options.append(st.integers())
        elif kind == "number":
            options.append(st.floats(allow_nan=False))
        elif kind == "boolean":
            options.append(st.booleans())
        elif kind == "null":
            options.append(st.none())
    return st.one_of(options)


JUNK_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """Draw one request: mostly documented operations, sometimes nonsense."""
    template = draw(st.sampled_from(sorted(DOC["paths"])))
    operations = DOC["paths"][template]
    method = draw(
        st.one_of(st.sampled_from(sorted(o.upper() for o in operations)), st.sampled_from(METHODS))
    )
    path = template.replace(
        "{id}", quote(draw(st.one_of(st.sampled_from(RECEIVER_IDS), st.text(min_size=1))), safe=":")
    )
    params: dict[str, str] = {}
    manufacturer = draw(st.one_of(st.none(), st.sampled_from(CODES), st.text()))
    if manufacturer is not None:
        params["manufacturer"] = manufacturer
    headers = {}
    token = draw(st.sampled_from([TOKEN, TOKEN, None, "wrong", "x y"]))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body: bytes | None = None
    operation = operations.get(method.lower(), {})
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    choice = draw(st.integers(0, 3))
    if choice == 1 and schema:
        body = json.dumps(draw(from_schema(schema["schema"]))).encode()
    elif choice == 2:
        body = json.dumps(draw(JUNK_JSON)).encode()
    elif choice == 3:
        body = draw(st.binary(max_size=64))
    return {
        "template": template,
        "method": method,
        "path": path,
        "params": params,
        "headers": headers,
        "body": body,
    }


def documented_schema(template: str, method: str, status: int) -> dict[str, Any] | None:
    """Return the response schema the description promises, if any."""
    operation = DOC["paths"][template].get(method.lower())
    if operation is None:
        return None
    response = operation["responses"].get(str(status))
    if response is None:
        return None
    content = response["content"].get("application/json")
    return None if content is None else {"components": DOC["components"], **content["schema"]}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests())
def test_fuzz_no_500_and_answers_match_the_description(base_url: str, request: dict[str, Any]):
    with httpx.Client(base_url=base_url, timeout=10) as client:
        if request["template"] == "/api/events/" and request["method"] == "GET":
            with client.stream(
                "GET", request["path"], params=request["params"], headers=request["headers"]
            ) as response:
                status = response.status_code
                assert status < 500
                if status == 200:
                    assert response.headers["Content-Type"].startswith("text/event-stream")
                    return
                response.read()
        else:
            response = client.request(
                request["method"],
                request["path"],
                params=request["params"],
                headers=request["headers"],
                content=request["body"],
            )
    status = response.status_code
    assert status < 500, response.text
    if request["method"] == "HEAD" or status == 204:
        return
    if request["template"] == "/metrics" and status == 200:  # Prometheus text, not JSON
        assert response.headers["Content-Type"].startswith("text/plain")
        assert TOKEN not in response.text
        assert list(text_string_to_metric_families(response.text))
        return
    assert response.headers["Content-Type"].startswith("application/json"), response.text
    data = response.json()
    assert TOKEN not in response.text
    if status >= 400:
        assert set(data) == {"error"}
        assert isinstance(data["error"]["code"], str)
        assert isinstance(data["error"]["message"], str)
        return
    if request["template"] == "/api/data/":
        assert_valid(data)
    schema = documented_schema(request["template"], request["method"], status)
    assert schema is not None, f"undocumented {status} for {request['method']} {request['path']}"
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
