"""Micboard Desktop: watch every wireless microphone in a show, from several manufacturers."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("micboard-desktop")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
