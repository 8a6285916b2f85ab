"""Keep secrets out of logs: a logging filter that scrubs them from every record.

Two nets: patterns that catch credentials in their usual shapes (``Authorization``
headers, ``x-api-key``, ``password=...``, URLs with a user:password part), and the
exact values of every secret the app has loaded (registered with
:func:`register_secret`), so a key is hidden even where no pattern would match it.
Device addresses are not secrets and stay readable.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Final

from micboard_desktop.core.text_clean import escape_controls

REDACTED: Final = "***"

_PATTERNS: Final = (
    # Authorization: Basic abc / Bearer abc (header lines, dict reprs, curl strings)
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:basic|bearer|token)\s+)[^\s'\",}]+"),
    # x-api-key: abc, api_key=abc, "password": "abc", token=abc, secret: abc
    re.compile(
        r"(?i)((?:x-api-key|api[_-]?key|password|passwd|pwd|token|secret)['\"]?\s*[:=]\s*['\"]?)"
        r"[^\s'\",}&]+"
    ),
    # https://user:password@host
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(@)"),
)

_lock = threading.Lock()
_secrets: set[str] = set()
_MIN_SECRET_LENGTH: Final = 4  # shorter values would blank out ordinary words


def register_secret(value: str | None) -> None:
    """Hide ``value`` wherever it appears in a log record from now on."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Return ``text`` with every known secret and credential-shaped value replaced."""
    with _lock:
        values = sorted(_secrets, key=len, reverse=True)
    for value in values:
        text = text.replace(value, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(
            lambda m: m.group(1) + REDACTED + (m.group(2) if m.lastindex == 2 else ""), text
        )
    return text


class RedactingFilter(logging.Filter):
    """Rewrite each record's final message (and traceback) with secrets removed.

    Control characters and lone surrogates are escaped at the same time: messages quote
    device texts and errors, and a log tailed in a terminal must not run their escape
    sequences (nor may a surrogate break the UTF-8 log file).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; always keep it."""
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = escape_controls(redact(message))
        record.args = None
        if record.exc_text:
            record.exc_text = escape_controls(redact(record.exc_text))
        return True
