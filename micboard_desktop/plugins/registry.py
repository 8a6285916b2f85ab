"""Find the plugin for a manufacturer code: built-ins first, then installed add-ons."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from importlib.metadata import entry_points

from micboard_desktop.core.config import ManufacturerConfig
from micboard_desktop.core.errors import PluginError, UnknownPluginError
from micboard_desktop.plugins._builtin import BUILTIN_PLUGINS
from micboard_desktop.plugins.api import API_VERSION, ManufacturerPlugin

ENTRY_POINT_GROUP = "micboard_desktop.plugins"
_log = logging.getLogger(__name__)


class PluginRegistry:
    """Maps manufacturer codes to plugin classes, importing each one on first use."""

    def __init__(
        self,
        builtins: Mapping[str, str] | None = None,
        *,
        use_entry_points: bool = True,
    ) -> None:
        self._targets: dict[str, str] = dict(BUILTIN_PLUGINS if builtins is None else builtins)
        self._loaded: dict[str, type[ManufacturerPlugin]] = {}
        if use_entry_points:
            self._add_entry_points()

    def _add_entry_points(self) -> None:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in self._targets:
                # A third-party package must not silently replace a built-in plugin.
                _log.warning("ignoring plugin %r from %s: code already taken", ep.name, ep.value)
                continue
            self._targets[ep.name] = ep.value

    def codes(self) -> list[str]:
        """Return every known manufacturer code, sorted."""
        return sorted(self._targets.keys() | self._loaded.keys())

    def register(self, plugin: type[ManufacturerPlugin]) -> None:
        """Add a plugin class directly (tests, embedding)."""
        self._loaded[plugin.manufacturer_code] = plugin

    def load(self, code: str) -> type[ManufacturerPlugin]:
        """Return the plugin class for ``code``, importing it if needed.

        Raises:
            UnknownPluginError: no plugin has that code.
            PluginError: the plugin exists but cannot be imported or is not a plugin.
        """
        if code in self._loaded:
            return self._loaded[code]
        target = self._targets.get(code)
        if target is None:
            known = ", ".join(self.codes()) or "none"
            raise UnknownPluginError(f"no plugin for manufacturer {code!r} (known: {known})")
        plugin = _import_target(code, target)
        self._loaded[code] = plugin
        return plugin


def _import_target(code: str, target: str) -> type[ManufacturerPlugin]:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
        plugin = getattr(module, attr)
    except (ImportError, AttributeError) as exc:
        raise PluginError(f"plugin {code!r} ({target}) cannot be loaded: {exc}") from exc
    if not (isinstance(plugin, type) and issubclass(plugin, ManufacturerPlugin)):
        raise PluginError(f"plugin {code!r} ({target}) is not a ManufacturerPlugin")
    if plugin.manufacturer_code != code:
        raise PluginError(
            f"plugin {target} declares code {plugin.manufacturer_code!r}, registered as {code!r}"
        )
    if plugin.api_version != API_VERSION:
        raise PluginError(
            f"plugin {code!r} targets plugin API {plugin.api_version}, this app has {API_VERSION}"
        )
    return plugin


_default: PluginRegistry | None = None


def default_registry() -> PluginRegistry:
    """Return the process-wide registry (built-ins plus entry points)."""
    global _default
    if _default is None:
        _default = PluginRegistry()
    return _default


def get_manufacturer_plugin(
    manufacturer: ManufacturerConfig | str, registry: PluginRegistry | None = None
) -> type[ManufacturerPlugin]:
    """Return the plugin class for a configured manufacturer (or a bare code)."""
    code = manufacturer if isinstance(manufacturer, str) else manufacturer.code
    return (registry or default_registry()).load(code)
