import asyncio
import ssl
from collections.abc import AsyncIterator

import httpx
import pytest
import trustme

from micboard_desktop.core.errors import DeviceMismatch
from micboard_desktop.plugins.tls import (
    certificate_fingerprint,
    check_httpx_response,
    client_ssl_context,
    fetch_fingerprint,
    normalize_fingerprint,
)

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def https_url(ca: trustme.CA) -> AsyncIterator[tuple[str, bytes]]:
    cert = ca.issue_cert("device.local")  # not 127.0.0.1: hostname checks must be off to pass
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(RESPONSE)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
    yield f"https://127.0.0.1:{port}/", der
    server.close()
    await server.wait_closed()


async def get(url: str, mode: str) -> httpx.Response:
    async with httpx.AsyncClient(verify=client_ssl_context(mode), timeout=5) as client:
        response = await client.get(url)
        check_httpx_response(mode, response)
        return response


async def test_verify_refuses_a_self_signed_device(https_url: tuple[str, bytes]):
    with pytest.raises(httpx.ConnectError):
        await get(https_url[0], "verify")


async def test_insecure_accepts_it(https_url: tuple[str, bytes]):
    assert (await get(https_url[0], "insecure")).text == "ok"


async def test_pinned_fingerprint_accepts_exactly_that_certificate(https_url: tuple[str, bytes]):
    url, der = https_url
    pin = "sha256:" + certificate_fingerprint(der).upper()
    assert (await get(url, pin)).text == "ok"
    with pytest.raises(DeviceMismatch, match="does not match"):
        await get(url, "sha256:" + "0" * 64)


def test_fingerprint_formats():
    digits = "ab" * 32
    colons = ":".join(["AB"] * 32)
    assert normalize_fingerprint(f"sha256:{colons}") == digits
    with pytest.raises(ValueError):
        normalize_fingerprint("sha256:1234")
    with pytest.raises(ValueError):
        client_ssl_context("sha256:nothex")
    with pytest.raises(ValueError):
        client_ssl_context("sometimes")


async def test_fetch_fingerprint_reports_what_the_device_presents(https_url: tuple[str, bytes]):
    url, der = https_url
    shown = await fetch_fingerprint(url)
    assert shown.startswith("sha256:")
    assert normalize_fingerprint(shown) == certificate_fingerprint(der)
    # ...and pinning exactly that is accepted by the pinned mode.
    assert (await get(url, shown)).text == "ok"
    with pytest.raises(ValueError, match="https"):
        await fetch_fingerprint("http://127.0.0.1:1/")
