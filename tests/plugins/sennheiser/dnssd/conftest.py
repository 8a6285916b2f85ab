from collections.abc import Iterator

import pytest

from tests.plugins.sennheiser.dnssd.mdns_net import MdnsNet, mdns_net_fixture


@pytest.fixture
def mdns_net() -> Iterator[MdnsNet]:
    yield from mdns_net_fixture()
