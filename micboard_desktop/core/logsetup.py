"""Configure logging: a rotating file in the OS log directory, plus the console if asked."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from micboard_desktop.core.redact import RedactingFilter

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_MAX_BYTES = 5 * 1024 * 1024
_BACKUPS = 5


def configure_logging(log_file: Path | None, *, level: str = "INFO", console: bool = False) -> None:
    """Send the app's logs to ``log_file`` (rotating) and, if ``console``, to stderr.

    Every handler carries the redacting filter, so no secret reaches any output.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_micboard", False):
            root.removeHandler(handler)
            handler.close()
    handlers: list[logging.Handler] = []
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                log_file, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8"
            )
        )
    if console:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.addFilter(RedactingFilter())
        handler._micboard = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level.upper())
    # Library chatter at INFO (every HTTP request) would drown the show's real events.
    for noisy in ("httpx", "httpcore", "websockets", "aiohttp.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
