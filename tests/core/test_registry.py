from importlib.metadata import EntryPoint

import pytest

from micboard_desktop.core.config import ManufacturerConfig
from micboard_desktop.core.errors import PluginError, UnknownPluginError
from micboard_desktop.plugins import _builtin, registry
from micboard_desktop.plugins.registry import PluginRegistry, get_manufacturer_plugin
from tests.fakes.plugin import FakePlugin

FAKE = "tests.fakes.plugin:FakePlugin"


def test_builtin_plugin_loads_lazily_by_code():
    reg = PluginRegistry({"fake": FAKE}, use_entry_points=False)
    assert reg.codes() == ["fake"]
    assert reg.load("fake") is FakePlugin
    assert get_manufacturer_plugin(ManufacturerConfig(code="fake"), reg) is FakePlugin


def test_unknown_code_raises_a_clear_error():
    reg = PluginRegistry({"fake": FAKE}, use_entry_points=False)
    with pytest.raises(UnknownPluginError, match=r"no plugin for manufacturer 'acme'.*fake"):
        reg.load("acme")


def test_entry_point_plugins_are_found(monkeypatch: pytest.MonkeyPatch):
    eps = [EntryPoint(name="fake", value=FAKE, group=registry.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(registry, "entry_points", lambda group: eps)
    reg = PluginRegistry({})
    assert reg.load("fake") is FakePlugin


def test_entry_point_cannot_shadow_a_builtin(monkeypatch: pytest.MonkeyPatch):
    eps = [EntryPoint(name="fake", value="json:loads", group=registry.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(registry, "entry_points", lambda group: eps)
    reg = PluginRegistry({"fake": FAKE})
    assert reg.load("fake") is FakePlugin


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("tests.fakes.nowhere:Plugin", "cannot be loaded"),
        ("json:loads", "not a ManufacturerPlugin"),
        ("tests.fakes.plugin:OtherCodePlugin", "declares code"),
    ],
)
def test_broken_targets_raise_plugin_error(target: str, message: str):
    reg = PluginRegistry({"fake": target}, use_entry_points=False)
    with pytest.raises(PluginError, match=message):
        reg.load("fake")


def test_every_builtin_target_imports():
    reg = PluginRegistry(use_entry_points=False)
    for code in _builtin.BUILTIN_PLUGINS:
        assert reg.load(code).manufacturer_code == code


def test_builtin_list_matches_the_plugin_packages():
    from pathlib import Path

    import micboard_desktop.plugins as plugins_pkg

    packages = {
        p.name
        for p in Path(plugins_pkg.__file__).parent.iterdir()
        if p.is_dir() and (p / "plugin.py").exists()
    }
    assert set(_builtin.BUILTIN_PLUGINS) == packages
