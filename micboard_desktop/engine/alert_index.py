"""ByReceiver: a key → value mapping that also lists the keys of one receiver without a scan.

The alert engine evaluates one receiver at a time, hundreds of times a second on a big
rig; finding "this receiver's alerts" by scanning every active or pending alert made each
evaluation cost O(all alerts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import TypeVar

V = TypeVar("V")


class ByReceiver(MutableMapping[str, V]):
    """A dict of alert key → value, indexed by the receiver id each value names."""

    def __init__(self, receiver_of: Callable[[V], str]) -> None:
        self._items: dict[str, V] = {}
        self._keys: dict[str, set[str]] = {}
        self._receiver_of = receiver_of

    def keys_of(self, receiver_id: str) -> list[str]:
        """Return the keys whose value belongs to ``receiver_id`` (a copy: safe to mutate)."""
        return list(self._keys.get(receiver_id, ()))

    def receivers(self) -> list[str]:
        """Return every receiver id that has at least one key."""
        return list(self._keys)

    def get(self, key: str, default: V | None = None) -> V | None:  # type: ignore[override]
        """Return the value of ``key`` or ``default`` (a plain dict lookup, not the mixin's)."""
        return self._items.get(key, default)

    def pop(self, key: str, default: V | None = None) -> V | None:  # type: ignore[override]
        """Remove ``key`` and return its value, or ``default`` when it is absent."""
        value = self._items.pop(key, None)
        if value is None:
            return default
        self._unindex(key, self._receiver_of(value))
        return value

    def __getitem__(self, key: str) -> V:
        """Return the value of ``key``."""
        return self._items[key]

    def __contains__(self, key: object) -> bool:
        """Return True when ``key`` is present (without the mixin's try/except)."""
        return key in self._items

    def __setitem__(self, key: str, value: V) -> None:
        """Set ``key``, moving it to its value's receiver if that changed."""
        old = self._items.get(key)
        if old is not None:
            self._unindex(key, self._receiver_of(old))
        self._items[key] = value
        self._keys.setdefault(self._receiver_of(value), set()).add(key)

    def __delitem__(self, key: str) -> None:
        """Remove ``key``."""
        value = self._items.pop(key)
        self._unindex(key, self._receiver_of(value))

    def __iter__(self) -> Iterator[str]:
        """Iterate over the keys."""
        return iter(self._items)

    def __len__(self) -> int:
        """Return the number of keys."""
        return len(self._items)

    def _unindex(self, key: str, receiver_id: str) -> None:
        keys = self._keys.get(receiver_id)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._keys[receiver_id]
