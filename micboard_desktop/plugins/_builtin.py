"""Built-in plugins, listed statically so frozen builds find them without entry points.

Maps a manufacturer code to ``"module:Class"``; the module is imported only when the
manufacturer is used, so listing plugins stays cheap. A test keeps this list in step
with the plugin packages that exist.
"""

from __future__ import annotations

from typing import Final

BUILTIN_PLUGINS: Final[dict[str, str]] = {
    "micboard": "micboard_desktop.plugins.micboard.plugin:MicboardPlugin",
    "sennheiser": "micboard_desktop.plugins.sennheiser.plugin:SennheiserPlugin",
    "shure": "micboard_desktop.plugins.shure.plugin:ShurePlugin",
}
