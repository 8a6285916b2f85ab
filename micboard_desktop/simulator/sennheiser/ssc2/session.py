"""One SSCv2 subscription session: its path list, change detection and meter clock.

A session pushes a notification only when a value differs from what it last sent, so a
quiet rig produces no traffic. Choices where the reference is silent [INF]:

* ``/add`` is atomic: one unknown path refuses the whole batch (``400 {"path", "error": 404}``).
* ``/remove`` of a path that is not subscribed is refused the same way (the OAS example
  refuses ``/api/ssc/version``); ``/api/ssc/*`` paths cannot be subscribed.
* Current values of every path named in ``/add`` (and of paths new in a replacing ``PUT``)
  are pushed right away (only a [2ND] claim, so ``push_initial=False`` turns it off and a
  client must GET what it wants to know now, as the Companion Spectera module does); a
  subscribed resource that is absent (a battery with no transmitter) is pushed as
  ``null``, and so is a collection item that disappears.
* Meter resources are sampled every ``meter_period`` seconds, only while subscribed, and
  pushed only when they changed.
"""

from __future__ import annotations

import asyncio
import contextlib

from micboard_desktop.simulator.sennheiser.ssc2.resources import (
    Json,
    ResourceTree,
    SscError,
    canonical_path,
)
from micboard_desktop.simulator.sennheiser.ssc2.sse import SseEvent, json_text

SUBSCRIPTIONS_PATH = "/api/ssc/state/subscriptions"
"""Collection of subscription sessions; ``GET`` on it opens a new session's stream."""


class SscSession:
    """One client's subscription: which paths it wants and the events queued for its stream."""

    def __init__(
        self, tree: ResourceTree, session_id: str, meter_period: float, *, push_initial: bool = True
    ) -> None:
        self.id = session_id
        self.push_initial = push_initial
        self.path = f"{SUBSCRIPTIONS_PATH}/{session_id}"
        self.tree = tree
        self.meter_period = meter_period
        self.subscriptions: dict[str, None] = {}
        """Subscribed paths in the order they were added (a dict as an ordered set)."""
        self.events: asyncio.Queue[SseEvent] = asyncio.Queue()
        self.closed = False
        self.ended = asyncio.Event()
        """Set by the server once the stream carrying this session has finished."""
        self._sent: dict[str, Json] = {}
        self._meter_task: asyncio.Task[None] | None = None

    # --- control events ---------------------------------------------------------------------

    def _control(self, name: str, *, final: bool = False) -> SseEvent:
        data = json_text({"path": self.path, "sessionUUID": self.id})
        return SseEvent(data, name=name, compact=True, final=final)

    def open_event(self) -> SseEvent:
        """Return the first event of the stream (``event:open``)."""
        return self._control("open")

    def inject(self, raw: bytes) -> None:
        """Queue hand-made event bytes (a test's malformed event) for this stream."""
        if not self.closed:
            self.events.put_nowait(SseEvent("", raw=raw))

    def close(self) -> None:
        """End the session: queue the final ``close`` event and stop sampling meters."""
        if self.closed:
            return
        self.closed = True
        self.events.put_nowait(self._control("close", final=True))
        if self._meter_task is not None:
            self._meter_task.cancel()

    async def finish(self) -> None:
        """Close the session and wait for its meter task to end."""
        self.close()
        task, self._meter_task = self._meter_task, None
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- subscription list ------------------------------------------------------------------

    def parse(self, body: Json, *, subscribed_only: bool = False) -> list[str]:
        """Return the canonical paths of a request body; raise 400 naming a bad path."""
        if not isinstance(body, list) or not all(isinstance(p, str) for p in body):
            raise SscError(400, self.path)
        paths: list[str] = []
        for raw in body:
            assert isinstance(raw, str)  # checked above
            path = canonical_path(raw)
            known = path in self.subscriptions if subscribed_only else self._subscribable(path)
            if not known:
                raise SscError(400, raw, 404)
            paths.append(path)
        return paths

    def _subscribable(self, path: str) -> bool:
        return self.tree.declares(path) and not path.startswith("/api/ssc/")

    def add(self, paths: list[str]) -> None:
        """Subscribe ``paths`` and push their current values."""
        initial: dict[str, Json] = {}
        for path in paths:
            self.subscriptions[path] = None
            current = self.tree.snapshot(path)
            initial.update(current)
            self._sent.update(current)
        if self.push_initial:
            self._emit(initial)
        self._sync_meter_task()

    def remove(self, paths: list[str]) -> None:
        """Unsubscribe ``paths`` (already checked to be subscribed)."""
        for path in paths:
            self.subscriptions.pop(path, None)
        self._forget_uncovered()
        self._sync_meter_task()

    def replace(self, paths: list[str]) -> None:
        """Make ``paths`` the whole subscription list; push values of the new ones."""
        added = [p for p in dict.fromkeys(paths) if p not in self.subscriptions]
        self.subscriptions = dict.fromkeys(paths)
        self._forget_uncovered()
        self.add(added)

    def _forget_uncovered(self) -> None:
        for item in list(self._sent):
            parent = item.rpartition("/")[0]
            if item not in self.subscriptions and not (
                parent in self.subscriptions and self.tree.is_collection(parent)
            ):
                del self._sent[item]

    # --- change detection -------------------------------------------------------------------

    def refresh(self, *, meters_only: bool = False) -> None:
        """Push every subscribed value that differs from what this session last sent."""
        if self.closed:
            return
        changes: dict[str, Json] = {}
        for path in self.subscriptions:
            if meters_only and not self.tree.is_fast(path):
                continue
            current = self.tree.snapshot(path)
            for item, body in current.items():
                if item not in self._sent or self._sent[item] != body:
                    changes[item] = body
                    self._sent[item] = body
            if self.tree.is_collection(path):
                for item in [k for k in self._sent if k.rpartition("/")[0] == path]:
                    if item not in current:
                        changes[item] = None  # the item is gone (e.g. transmitter unlinked)
                        del self._sent[item]
        self._emit(changes)

    def _emit(self, changes: dict[str, Json]) -> None:
        # One event may carry several resources, keyed by path (SSCv2 notification form).
        if changes and not self.closed:
            self.events.put_nowait(SseEvent(json_text(changes), resources=changes))

    def _sync_meter_task(self) -> None:
        wanted = not self.closed and any(self.tree.is_fast(p) for p in self.subscriptions)
        if wanted and self._meter_task is None:
            self._meter_task = asyncio.get_running_loop().create_task(
                self._sample_meters(), name=f"ssc-meters-{self.id}"
            )
        elif not wanted and self._meter_task is not None:
            self._meter_task.cancel()
            self._meter_task = None

    async def _sample_meters(self) -> None:
        while True:
            await asyncio.sleep(self.meter_period)
            self.refresh(meters_only=True)
