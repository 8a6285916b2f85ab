"""Keep secrets out of the database: recognise secret-looking keys and strip them."""

from __future__ import annotations

import re
from typing import Final

from micboard_desktop.data.records import JsonValue

_SECRET_WORDS: Final = re.compile(
    r"api[_-]?key|password|passwd|passphrase|token|secret|credential|private[_-]?key"
    r"|authorization|bearer",
    re.IGNORECASE,
)
# "secret_ref" / "token_ref" name a keyring entry, not the secret itself: keep them.
_REFERENCE: Final = re.compile(r"[_-]?ref$", re.IGNORECASE)


def is_secret_key(name: str) -> bool:
    """Return True when a config key looks like it holds a secret."""
    if _REFERENCE.search(name):
        return False
    return _SECRET_WORDS.search(name) is not None


def strip_secrets(value: JsonValue, path: str = "") -> tuple[JsonValue, list[str]]:
    """Return a copy of ``value`` without secret-looking keys, and the dotted paths removed.

    Nested objects and lists are cleaned too, since a plugin's options can nest.
    """
    removed: list[str] = []
    if isinstance(value, dict):
        clean: dict[str, JsonValue] = {}
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if is_secret_key(key):
                removed.append(where)
                continue
            clean[key], inner = strip_secrets(item, where)
            removed.extend(inner)
        return clean, removed
    if isinstance(value, list):
        items: list[JsonValue] = []
        for index, item in enumerate(value):
            cleaned, inner = strip_secrets(item, f"{path}[{index}]")
            items.append(cleaned)
            removed.extend(inner)
        return items, removed
    return value, removed
