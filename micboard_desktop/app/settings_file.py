"""The window's saved settings: the same TOML format as ``--config`` files, written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from micboard_desktop.core.config import AppConfig, apply_environment, load_config
from micboard_desktop.core.config_io import to_toml


def load_settings(path: Path) -> AppConfig:
    """Return the saved settings, or defaults when there are none yet.

    Raises:
        ConfigError: the file exists but is invalid (the message names the key).
    """
    if not path.exists():
        return apply_environment(AppConfig())
    return apply_environment(load_config(path))


def save_settings(path: Path, config: AppConfig) -> None:
    """Write ``config`` to ``path`` so that a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(to_toml(config))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
