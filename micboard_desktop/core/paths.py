"""Where the app keeps its files, per operating system (platformdirs).

``MICBOARD_DATA_DIR`` and ``MICBOARD_LOG_DIR`` override the defaults (tests and portable
installs use them); ``--data-dir`` on the command line overrides both for one run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from micboard_desktop.core.errors import SetupError

APP_NAME = "micboard-desktop"
APP_AUTHOR = "Micboard"
DATABASE_FILE = "micboard.db"
SETTINGS_FILE = "settings.toml"


@dataclass(frozen=True, slots=True)
class AppPaths:
    """The directories and files of one app instance."""

    data_dir: Path
    log_dir: Path

    @property
    def database(self) -> Path:
        """Return the SQLite database file."""
        return self.data_dir / DATABASE_FILE

    @property
    def settings(self) -> Path:
        """Return the GUI's saved configuration (same format as ``--config`` files)."""
        return self.data_dir / SETTINGS_FILE

    @property
    def log_file(self) -> Path:
        """Return the rotating log file."""
        return self.log_dir / f"{APP_NAME}.log"

    def ensure(self) -> AppPaths:
        """Create the directories if needed and return self.

        Raises:
            SetupError: A folder cannot be created or is not a writable folder.
        """
        for folder in (self.data_dir, self.log_dir):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                reason = error.strerror or type(error).__name__
                raise SetupError(
                    f"Cannot use {folder} as a data folder ({reason}); choose another with "
                    "--data-dir DIR"
                ) from error
            if not os.access(folder, os.W_OK | os.X_OK):
                raise SetupError(
                    f"Cannot use {folder} as a data folder (not writable); choose another "
                    "with --data-dir DIR"
                )
        return self


def app_paths(data_dir: Path | None = None) -> AppPaths:
    """Resolve the directories: ``data_dir`` argument, then environment, then OS default."""
    if data_dir is not None:
        root = data_dir.expanduser().resolve()
        return AppPaths(data_dir=root, log_dir=root / "logs")
    env_data = os.environ.get("MICBOARD_DATA_DIR")
    env_logs = os.environ.get("MICBOARD_LOG_DIR")
    data = Path(env_data) if env_data else Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))
    logs = Path(env_logs) if env_logs else Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))
    return AppPaths(data_dir=data, log_dir=logs)
