from collections.abc import Iterator

import pytest

from tests.simulator.slp_net import SlpNet, slp_net_fixture


@pytest.fixture
def slp_net() -> Iterator[SlpNet]:
    yield from slp_net_fixture()
