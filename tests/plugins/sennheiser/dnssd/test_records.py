"""The DNS-SD record readers: TXT strings, instance names, addresses (property tests)."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from micboard_desktop.core.addresses import check_device_address
from micboard_desktop.plugins.api import DiscoveredDevice, clean_text
from micboard_desktop.plugins.sennheiser.dnssd.records import (
    MAX_KEY_CHARS,
    MAX_TXT_ENTRIES,
    device_from,
    instance_name,
    merge_found,
    parse_txt,
    pick_host,
    ssc1_address,
)
from micboard_desktop.plugins.sennheiser.ssc1.address import parse_ssc1_address
from micboard_desktop.simulator.sennheiser.ssc1.advertise import (
    MAX_INSTANCE_BYTES,
    AdvertisedDevice,
    instance_label,
    service_info,
    txt_model,
)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def txt(*strings: bytes) -> bytes:
    return b"".join(bytes([len(item)]) + item for item in strings)


def test_the_reference_keys_are_read_case_insensitively():
    record = txt(b"txtvers=1", b"version=1.0", b"Model=EM6000", b"http-uri=/")
    assert parse_txt(record) == {
        "txtvers": "1",
        "version": "1.0",
        "model": "EM6000",
        "http-uri": "/",
    }


def test_the_first_of_a_repeated_key_wins_and_a_bare_key_has_no_value():
    assert parse_txt(txt(b"MODEL=L6000", b"model=EM6000", b"flag", b"empty=")) == {
        "model": "L6000",
        "flag": None,
        "empty": "",  # present, with an empty value (RFC 6763 §6.4)
    }


def test_malformed_strings_are_skipped_and_a_cut_record_ends():
    record = txt(b"", b"=x", b"\xc3\xa9=1", b"k" * (MAX_KEY_CHARS + 1) + b"=1", b"a\x01=1",
                 b"ok=yes") + b"\x40short"
    assert parse_txt(record) == {"ok": "yes"}


def test_values_are_cleaned():
    assert parse_txt(txt(b"model=EM\x1b[31m6000\xff")) == {"model": "EM[31m6000\ufffd"}


@given(st.binary(max_size=3000))
def test_any_bytes_give_a_small_clean_dict(data: bytes):
    record = parse_txt(data)
    assert len(record) <= MAX_TXT_ENTRIES
    for key, value in record.items():
        assert key.isascii()
        assert key.isprintable()
        assert key == key.lower()
        assert "=" not in key
        assert 0 < len(key) <= MAX_KEY_CHARS
        assert value is None or (clean_text(value) == value and len(value) <= 128)


@given(
    st.dictionaries(
        st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=9),
        st.text(st.characters(codec="utf-8", categories=("L", "N")), min_size=1, max_size=20),
        max_size=8,
    )
)
def test_well_formed_records_read_back(entries: dict[str, str]):
    record = txt(*(f"{k}={v}".encode() for k, v in entries.items()))
    assert parse_txt(record) == entries


def test_instance_names():
    assert instance_name("EM 6000 Rack._ssc._udp.local.") == "EM 6000 Rack"
    assert instance_name("Rack.2._SSC._UDP.local.") == "Rack.2"  # a dot inside, any case
    assert instance_name("._ssc._udp.local.") is None
    assert instance_name("Rack._ssc._tcp.local.") is None  # another service type
    assert instance_name("Rx\x07\u202eevil") is None


@given(st.text(max_size=300))
def test_any_instance_name_comes_back_clean_or_not_at_all(label: str):
    name = instance_name(label + "._ssc._udp.local.")
    assert name is None or (clean_text(name) == name and len(name) <= 128)


def test_ipv4_is_preferred_then_routable_ipv6_then_scoped_link_local():
    assert pick_host(["10.0.0.5"], ["2001:db8::5"]) == "10.0.0.5"
    assert pick_host(["169.254.3.4", "10.0.0.5"], []) == "10.0.0.5"
    assert pick_host([], ["fe80::5%2", "2001:db8::5"]) == "2001:db8::5"
    assert pick_host([], ["fe80::5%2"]) == "fe80::5%2"
    assert pick_host(["0.0.0.0", "224.0.0.251"], ["fe80::5", "::"]) is None  # nothing usable
    assert pick_host([], ["::ffff:10.0.0.9"]) == "10.0.0.9"
    assert pick_host(["not an address"], []) is None


def test_a_resolved_service_becomes_a_device():
    device = device_from(
        "D6K._ssc._udp.local.", 6970, ["192.0.2.10"], [], txt(b"txtvers=1", b"Model=EM6000")
    )
    assert device == DiscoveredDevice("sennheiser", "ssc1://192.0.2.10:6970", "EM6000", "D6K")
    v6 = device_from("D1._ssc._udp.local.", 45, [], ["fe80::1%3"], None)
    assert v6 is not None
    assert v6.address == "ssc1://[fe80::1%3]:45"
    assert v6.model is None
    assert device_from("X._ssc._udp.local.", 0, ["192.0.2.10"], [], None) is None
    assert device_from("X._ssc._udp.local.", None, ["192.0.2.10"], [], None) is None
    assert device_from("X._ssc._udp.local.", 45, [], [], None) is None


@given(
    name=st.text(max_size=100),
    port=st.one_of(st.none(), st.integers(-5, 70_000)),
    ipv4=st.lists(st.one_of(st.ip_addresses(v=4).map(str), st.text(max_size=20)), max_size=3),
    ipv6=st.lists(st.one_of(st.ip_addresses(v=6).map(str), st.text(max_size=40)), max_size=3),
    record=st.one_of(st.none(), st.binary(max_size=400)),
)
def test_any_resolution_gives_a_connectable_address_or_nothing(
    name: str, port: int | None, ipv4: list[str], ipv6: list[str], record: bytes | None
):
    device = device_from(name, port, ipv4, ipv6, record)
    if device is None:
        return
    assert check_device_address(device.address) == device.address  # the config accepts it
    host, parsed_port = parse_ssc1_address(device.address)  # and the SSCv1 plugin reads it
    assert parsed_port == port
    assert _ip(host) in {_ip(text) for text in [*ipv4, *ipv6]}  # one of the records'
    for text in (device.name, device.model):
        assert text is None or (text and clean_text(text) == text)


def test_ipv6_addresses_are_bracketed():
    assert ssc1_address("2001:db8::1", 45) == "ssc1://[2001:db8::1]:45"
    assert ssc1_address("10.1.2.3", 6970) == "ssc1://10.1.2.3:6970"


def test_merging_keeps_the_first_of_an_address_in_order():
    mcp = [DiscoveredDevice("sennheiser", "mcp://10.0.0.2:53212", None, "G4")]
    first = [DiscoveredDevice("sennheiser", "ssc1://10.0.0.3:45", "EM6000", "A")]
    again = [DiscoveredDevice("sennheiser", "SSC1://10.0.0.3:45", None, "B")]
    assert merge_found(mcp, first, again) == [*mcp, *first]


@given(st.text(st.characters(codec=None), max_size=200))
def test_advertised_instance_labels_fit_one_dns_label(name: str):
    label = instance_label(name)  # lone surrogates included
    assert 0 < len(label.encode("utf-8")) <= MAX_INSTANCE_BYTES
    clean = name.encode("utf-8", "replace").decode("utf-8")
    assert clean.startswith(label) or not name


def test_the_simulator_advertises_the_reference_keys():
    info = service_info(AdvertisedDevice("Rack A", "127.0.0.1", 6970, txt_model("EM 6000")))
    assert info.name == "Rack A._ssc._udp.local."
    assert info.port == 6970
    assert info.parsed_addresses() == ["127.0.0.1"]
    assert parse_txt(info.text) == {"txtvers": "1", "version": "1.0", "model": "EM6000"}
