"""The app's exception hierarchy.

::

    MicboardError
    ├── ConfigError            user configuration is wrong (exit 2, one line naming the key)
    ├── NameTaken              a rename would take a name another item (a group) already has
    ├── SetupError             the data folder, database or a port cannot be used (exit 2)
    ├── DataError              (data layer) database problems; its unusable-file kinds are
    │                          also SetupErrors
    ├── PluginError
    │   ├── UnknownPluginError     no plugin for a manufacturer code
    │   ├── UpdateFailed           a poll or stream failed; retried with backoff
    │   ├── AuthFailed             credentials refused; NOT retried until they change
    │   └── DeviceMismatch         a different device answers at the address; terminal
"""

from __future__ import annotations


class MicboardError(Exception):
    """Base of every error the app raises on purpose."""


class ConfigError(MicboardError):
    """The configuration is invalid; the message names the offending key."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class SetupError(MicboardError):
    """Something on this machine the user must fix before the app can run (exit 2, one line).

    A damaged or foreign database, a data folder that cannot be written, a port in use.
    """


class NameTaken(MicboardError):
    """A rename would give an item (a group) the name another one already has."""


class PluginError(MicboardError):
    """Something went wrong inside a manufacturer plugin."""


class UnknownPluginError(PluginError):
    """No plugin is registered for a manufacturer code."""


class UpdateFailed(PluginError):
    """A poll or stream failed in a way that is worth retrying."""


class AuthFailed(PluginError):
    """The device or server refused our credentials."""


class DeviceMismatch(PluginError):
    """The device at the configured address is not the one we expected."""



def describe_error(exc: BaseException) -> str:
    """Return a one-line, user-readable description of ``exc`` (never empty)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, TimeoutError) and not text:
        return "timed out"
    if not text:
        return type(exc).__name__
    return text[:300]
