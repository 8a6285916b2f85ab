"""Browsing ``_ssc._udp`` against advertised SSCv1 simulators in a private network."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from micboard_desktop.plugins.api import DiscoveredDevice
from micboard_desktop.plugins.sennheiser.dnssd import browser
from micboard_desktop.plugins.sennheiser.dnssd.browser import DnssdUnavailable, discover_ssc1
from micboard_desktop.simulator.sennheiser.ssc1.advertise import (
    AdvertisedDevice,
    Ssc1Advertiser,
    devices_of,
)
from micboard_desktop.simulator.sennheiser.ssc1.server import Ssc1Server
from tests.plugins.sennheiser.dnssd.mdns_net import LOOPBACK, MdnsNet
from tests.plugins.sennheiser.ssc1.helpers import d6000_receiver, rig

BROWSE = browser.BROWSE_SECONDS


def ours(found: list[DiscoveredDevice], ports: set[int]) -> list[DiscoveredDevice]:
    """The devices of this test (on plain loopback other processes may announce too)."""
    return [d for d in found if int(d.address.rsplit(":", 1)[1]) in ports]


async def ask_name(host: str, port: int) -> object:
    """Ask an SSCv1 device for /device/name over UDP and return the answer's value."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[bytes] = loop.create_future()

    class Client(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: object) -> None:
            if not answer.done():
                answer.set_result(data)

    transport, _ = await loop.create_datagram_endpoint(Client, remote_addr=(host, port))
    try:
        transport.sendto(json.dumps({"device": {"name": None}}).encode())
        data = await asyncio.wait_for(answer, 2.0)
    finally:
        transport.close()
    return json.loads(data)["device"]["name"]


def test_an_advertised_simulator_is_found_and_answers_there(mdns_net: MdnsNet):
    async def scenario() -> tuple[list[DiscoveredDevice], object, list[DiscoveredDevice], int]:
        the_rig = rig(d6000_receiver())
        server = Ssc1Server(the_rig, the_rig.receivers[0], host=LOOPBACK)
        await server.start()
        advertiser = Ssc1Advertiser(devices_of([server]))
        try:
            await advertiser.start()
            found = ours(await discover_ssc1([], bind=LOOPBACK, seconds=BROWSE), {server.port})
            name = None
            if found:
                host, port = found[0].address.removeprefix("ssc1://").rsplit(":", 1)
                name = await ask_name(host, int(port))
            configured = [f"ssc1://127.0.0.1:{server.port}"]
            again = ours(
                await discover_ssc1(configured, bind=LOOPBACK, seconds=BROWSE), {server.port}
            )
        finally:
            await advertiser.stop()
            await server.stop()
        return found, name, again, server.port

    found, name, again, port = mdns_net.run(scenario)
    assert found == [
        DiscoveredDevice(
            manufacturer="sennheiser",
            address=f"ssc1://127.0.0.1:{port}",
            model="EM6000",  # the TXT Model, as a Digital 6000 sends it
            name="D6K",  # the instance name is /device/name
        )
    ]
    assert name == "D6K"  # the address found is where the device answers SSCv1
    assert again == []  # already configured


def test_only_services_of_the_type_with_a_port_and_address_are_reported(mdns_net: MdnsNet):
    async def scenario() -> list[DiscoveredDevice]:
        good = AdvertisedDevice("Good", LOOPBACK, 30_001, model="EM6000")
        unspecified = AdvertisedDevice("Nowhere", "0.0.0.0", 30_002, model="EM6000")
        advertiser = Ssc1Advertiser([good, unspecified])
        try:
            await advertiser.start()
            return ours(await discover_ssc1([], bind=LOOPBACK, seconds=BROWSE), {30_001, 30_002})
        finally:
            await advertiser.stop()

    found = mdns_net.run(scenario)
    assert [(d.address, d.name) for d in found] == [("ssc1://127.0.0.1:30001", "Good")]


def txt(*strings: bytes) -> bytes:
    """Return a TXT record of ``strings``, each with its length byte."""
    return b"".join(bytes([len(item)]) + item for item in strings)


GARBAGE_TXT = txt(
    b"txtvers=1",
    b"",  # an empty string
    b"=model",  # no key
    b"Model=\xff\xfe\x1b[2J",  # the first Model: bad UTF-8 and an escape sequence
    b"model=EM99",  # the same key again: the first one counts (RFC 6763 §6.4)
    b"\xc3\xa9t\xc3\xa9=1",  # a non-ASCII key
    b"alone",  # a key without a value
) + b"\xf0cut short"  # a length running past the end


def test_garbage_txt_and_hostile_names_are_survived(mdns_net: MdnsNet):
    # zeroconf refuses ASCII control characters and labels over 63 bytes when registering,
    # so the wire carries what it allows: a bidi override, zero-width marks, a long label.
    hostile_name = "Rx\u202eevil\u202c\u200b\ufeff" + "x" * 80

    async def scenario() -> list[DiscoveredDevice]:
        devices = [
            AdvertisedDevice("Garbage", LOOPBACK, 30_011, raw_txt=GARBAGE_TXT),
            AdvertisedDevice(
                "Huge", LOOPBACK, 30_012, raw_txt=b"".join([b"\xffModel=" + b"M" * 249] * 6)
            ),
            AdvertisedDevice(hostile_name, LOOPBACK, 30_013, model="L6000"),
            AdvertisedDevice("Fine", LOOPBACK, 30_014, model="EM6000"),
        ]
        advertiser = Ssc1Advertiser(devices)
        try:
            await advertiser.start()
            found = await discover_ssc1([], bind=LOOPBACK, seconds=BROWSE)
        finally:
            await advertiser.stop()
        return ours(found, {30_011, 30_012, 30_013, 30_014})

    found = {d.address.rsplit(":", 1)[1]: d for d in mdns_net.run(scenario)}
    assert set(found) == {"30011", "30012", "30013", "30014"}
    garbage = found["30011"]
    assert garbage.name == "Garbage"
    assert garbage.model is not None
    assert garbage.model == "\ufffd\ufffd[2J"  # bad bytes replaced, the escape dropped
    huge = found["30012"]
    assert huge.model is not None
    assert len(huge.model) <= 128  # cut to a name's length
    assert huge.model.startswith("MMM")
    hostile = found["30013"]
    assert hostile.name is not None
    assert hostile.name.isprintable()
    assert hostile.name.startswith("Rxevil")  # the bidi override and zero-width marks dropped
    assert hostile.model == "L6000"
    assert (found["30014"].name, found["30014"].model) == ("Fine", "EM6000")


def test_a_flood_of_services_is_capped(mdns_net: MdnsNet, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(browser, "MAX_SERVICES", 3)

    async def scenario() -> list[DiscoveredDevice]:
        ports = range(30_021, 30_027)
        devices = [AdvertisedDevice(f"Flood {p}", LOOPBACK, p, model="EM6000") for p in ports]
        advertiser = Ssc1Advertiser(devices)
        try:
            await advertiser.start()
            return await discover_ssc1([], bind=LOOPBACK, seconds=BROWSE)
        finally:
            await advertiser.stop()

    found = mdns_net.run(scenario)
    assert 1 <= len(found) <= 3  # names past the cap are not even resolved
    if mdns_net.kind == "namespace":
        assert len(found) == 3  # nobody else announces here


def test_an_address_this_machine_lacks_is_a_clear_error(mdns_net: MdnsNet):
    async def scenario() -> str:
        try:
            await discover_ssc1([], bind="192.0.2.77", seconds=0.2)  # TEST-NET-1, not ours
        except DnssdUnavailable as exc:
            return str(exc)
        return "no error"

    message = mdns_net.run(scenario)
    assert "DNS-SD" in message or "mDNS" in message


def test_the_browse_leaves_nothing_listening(mdns_net: MdnsNet, caplog: pytest.LogCaptureFixture):
    async def scenario() -> int:
        before = len(asyncio.all_tasks())
        await discover_ssc1([], bind=LOOPBACK, seconds=0.2)
        await asyncio.sleep(0)
        return len(asyncio.all_tasks()) - before

    caplog.set_level(logging.WARNING)
    assert mdns_net.run(scenario) == 0
