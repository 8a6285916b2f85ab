"""Errors raised by the data layer.

Hierarchy (names are stable; ``DataError`` is a ``core.errors.MicboardError``, and the kinds
that mean "this file cannot be used" are also ``SetupError``s: one line and exit 2)::

    DataError
    ├── DatabaseUnusable      the file cannot be opened as a Micboard database
    ├── SchemaTooNew          the file was written by a newer build
    ├── MigrationFailed       upgrading the schema failed (the pre-upgrade backup is kept)
    ├── DatabaseClosed        the repository was used after ``stop()``
    ├── NotFound              a named row (group ...) does not exist
    ├── AlreadyExists         a unique name (group ...) is taken
    ├── SecretNotAllowed      a caller tried to store a secret in the database
    └── KeyringUnavailable    no usable OS keyring; secrets cannot be saved
"""

from __future__ import annotations

from pathlib import Path

from micboard_desktop.core.errors import MicboardError, SetupError


class DataError(MicboardError):
    """Base class of every error the data layer raises on purpose."""


class DatabaseUnusable(DataError, SetupError):
    """Raise when a file cannot be opened as a Micboard database (corrupt, foreign, unreadable)."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path
        """The database file that was refused, when there is one (to move it aside)."""


class SchemaTooNew(DataError, SetupError):
    """Raise when the database was written by a newer build than this one."""

    def __init__(self, found: str, supported: str) -> None:
        self.found = found
        """The schema revision recorded in the database."""
        self.supported = supported
        """The newest schema revision this build knows."""
        super().__init__(
            f"The database uses schema version {found}, but this version of Micboard Desktop "
            f"only knows up to {supported}. Update the app, or open a different data folder."
        )


class MigrationFailed(DataError, SetupError):
    """Raise when upgrading the database schema failed."""


class DatabaseClosed(DataError):
    """Raise when the repository is used after it was stopped."""


class NotFound(DataError):
    """Raise when a named row does not exist."""


class AlreadyExists(DataError):
    """Raise when a unique name is already taken."""


class SecretNotAllowed(DataError):
    """Raise when a caller tries to store a secret in the database."""


KEYRING_UNAVAILABLE_MESSAGE = (
    "No system keyring is available: secrets cannot be saved; set SHURE_API_KEY / "
    "SENNHEISER_API_KEY / MICBOARD_LAN_TOKEN in the environment instead."
)


class KeyringUnavailable(DataError):
    """Raise when no usable OS keyring exists; the message is meant for the user."""

    def __init__(self, message: str = KEYRING_UNAVAILABLE_MESSAGE) -> None:
        super().__init__(message)
