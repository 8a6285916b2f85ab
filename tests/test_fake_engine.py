"""The fake engine must keep satisfying the real protocol, or view tests would lie."""

from micboard_desktop.core.control import EngineControl
from tests.fakes.engine import FakeEngine


def test_fake_engine_satisfies_engine_control():
    engine: EngineControl = FakeEngine()  # mypy checks the structural match
    assert engine.manufacturer_codes() == []
