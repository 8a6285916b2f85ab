"""One other Micboard Desktop: its whole picture, then its event stream, into our store.

Each session reads ``GET /api/data/`` (the whole picture and the instance id), then holds
``GET /api/events/`` open and applies each ``device_update``; the first one is the whole
picture again, so nothing changed between the two requests is lost. Keep-alive comments
count as data, so a quiet show is not a silent connection; the read times out after
:data:`STREAM_SILENCE` seconds without a byte (three missed keep-alives), and the base
class reconnects with backoff. Where the other side has live updates off (503
``events_disabled``), ``/api/data/`` is read every polling interval instead.

Loops: a document whose ``instance.id`` is our own is refused (a connection error: the
address is this app itself); a receiver whose id chain (:mod:`.ids`) holds our id started
here and came back, so it is left out and the connection's note says how many. Two
addresses that reach the same instance are refused too: the second would only duplicate
the first one's receivers. The other side's receivers (and chargers, ``charger_update``) are
read-only here: nothing is ever sent to it but GETs.

While the link is down its receivers keep their last values, marked offline with this
connection's state and the time of our last data (the board shows them dimmed, then
offline, like any receiver whose link dropped).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Final

import httpx

from micboard_desktop.plugins.api import (
    AuthFailed,
    Backoff,
    Charger,
    ChargerId,
    Clock,
    ConnectionCoordinator,
    ConnectionState,
    ConnectionStatus,
    DeviceSink,
    MeterBus,
    MeterSample,
    Receiver,
    ReceiverId,
    Transport,
    UpdateFailed,
    check_httpx_response,
    client_ssl_context,
    read_capped,
)
from micboard_desktop.plugins.micboard.address import Endpoint
from micboard_desktop.plugins.micboard.ids import CODE, MAX_HOPS, chain_of, local_id
from micboard_desktop.plugins.micboard.mapping import (
    DataDocument,
    id_list,
    parse_document,
    receiver_list,
    remote_id,
    to_charger,
    to_receiver,
)
from micboard_desktop.plugins.micboard.sse import SseEvent, SseParser

MAX_DATA_BYTES: Final = 32 << 20
"""Largest ``/api/data/`` answer read (a very large rig is a few MB)."""
STREAM_SILENCE: Final = 45.0
"""Seconds without a byte before the stream counts as dead (the server sends a keep-alive
every 15 s)."""
DEFAULT_POLL_SECONDS: Final = 10.0
"""How often ``/api/data/`` is read where the other side's live updates are off."""

_NO_LEVELS: Final = MeterSample()
SourceClaims = dict[str, str]
"""Which connection reads which instance (instance id or ``HOST:PORT`` -> connection id)."""


class RemoteLink(ConnectionCoordinator):
    """The connection to one other Micboard Desktop (see module docstring)."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        sink: DeviceSink,
        claims: SourceClaims,
        meters: MeterBus | None = None,
        own_id: str | None,
        secret: Callable[[], str | None],
        tls: str = "verify",
        timeout: float = 10.0,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        super().__init__(
            f"{CODE}:{endpoint.key}",
            Transport.SSE,
            clock=clock,
            backoff=backoff,
            on_state=self._state_changed,
            logger=logger,
        )
        self.endpoint = endpoint
        self._sink = sink
        self._meters = meters
        self._claims = claims
        self._own_id = own_id
        self._secret = secret
        self._tls = tls
        self._timeout = timeout
        self._poll_seconds = poll_seconds
        self._http: httpx.AsyncClient | None = None
        self.receivers: dict[ReceiverId, Receiver] = {}
        """What this link put in the store, by our id."""
        self.chargers: dict[ChargerId, Charger] = {}
        """The other side's chargers this link put in the store, by our id."""
        self.source: str | None = None
        """The instance this link reads (its id, or ``HOST:PORT`` when it serves none)."""
        self.label: str = endpoint.key
        """How its receivers' origin is shown: the other side's name, else ``HOST:PORT``."""
        self.echoes: set[str] = set()
        """Receivers (their ids there) that started here and came back: refused."""
        self.too_far: set[str] = set()
        """Receivers (their ids there) that passed through more than MAX_HOPS instances."""
        self.charger_echoes: set[str] = set()
        """Chargers (their ids there) that started here and came back: refused."""
        self.events_live = True
        """False while the other side has live updates off and is polled instead."""

    # -- ConnectionCoordinator hooks ---------------------------------------------------

    async def _stream(self) -> None:
        """Read the whole picture, then follow the event stream until it ends."""
        client = self._client()
        self._take(await self._read_data(client))
        self.mark_connected()
        if await self._follow(client):
            return
        # The other side has live updates off: read its picture on an interval instead.
        self.events_live = False
        self._update_note()
        while True:
            await self._clock.sleep(self._poll_seconds)
            self._take(await self._read_data(client))
            self.mark_message()

    async def _close(self) -> None:
        """Close the HTTP client and let another link read this instance."""
        if self.source is not None and self._claims.get(self.source) == self.connection_id:
            del self._claims[self.source]
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()

    # -- reading ------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                verify=client_ssl_context(self._tls) if self.endpoint.tls else False,
                timeout=httpx.Timeout(self._timeout),
                trust_env=False,  # a proxy from the environment has no business on the LAN
            )
        return self._http

    def _headers(self, accept: str) -> dict[str, str]:
        headers = {"Accept": accept}
        token = self._secret()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def _read_data(self, client: httpx.AsyncClient) -> DataDocument:
        """Return the other side's ``/api/data/`` document, checked."""
        url = self.endpoint.url("/api/data/")
        async with client.stream("GET", url, headers=self._headers("application/json")) as answer:
            self._check(answer)
            body = await read_capped(
                answer, MAX_DATA_BYTES, f"its /api/data/ answer is over {MAX_DATA_BYTES} bytes"
            )
        try:
            document = json.loads(body)
        except ValueError:
            raise UpdateFailed("its /api/data/ answer is not JSON") from None
        return parse_document(document)

    async def _follow(self, client: httpx.AsyncClient) -> bool:
        """Apply the event stream until it ends; return False if live updates are off."""
        url = self.endpoint.url("/api/events/")
        timeout = httpx.Timeout(self._timeout, read=STREAM_SILENCE)
        headers = self._headers("text/event-stream")
        async with client.stream("GET", url, headers=headers, timeout=timeout) as answer:
            if answer.status_code == 503:
                return False
            self._check(answer)
            if not self.events_live:
                self.events_live = True
                self._update_note()
            parser = SseParser()
            first = True
            async for chunk in answer.aiter_bytes():
                self.mark_message()
                for event in parser.feed(chunk):
                    if event.event == "device_update":
                        self._take_event(event, whole=first)
                        first = False
                    elif event.event == "charger_update":
                        self._take_chargers(event)
        return True

    def _check(self, answer: httpx.Response) -> None:
        """Raise for an answer that is not a 200 (401: the token, which blocks retries)."""
        check_httpx_response(self._tls, answer)
        status = answer.status_code
        if status == 200:
            return
        if status == 401:
            raise AuthFailed(f"{self.endpoint.key} wants its LAN token (HTTP 401)")
        if status == 421:
            raise UpdateFailed(
                f"{self.endpoint.key} does not accept the name {self.endpoint.host!r} "
                "(HTTP 421): use its IP address"
            )
        raise UpdateFailed(f"{self.endpoint.key} answered HTTP {status}")

    # -- applying -----------------------------------------------------------------------

    def _take_event(self, event: SseEvent, *, whole: bool) -> None:
        """Apply one ``device_update``; a malformed one drops the stream (read again)."""
        data = _event_data(event)
        raws = receiver_list(data.get("receivers"))
        if whole:
            self._replace(raws)
            return
        for gone in id_list(data.get("removed")):
            self._forget_remote(gone)
        for raw in raws:
            self._put(raw)
        self._update_note()

    def _take_chargers(self, event: SseEvent) -> None:
        """Apply one ``charger_update`` (changed chargers and removed ids)."""
        data = _event_data(event)
        for gone in id_list(data.get("removed")):
            self.charger_echoes.discard(gone)
            ours = ChargerId(local_id(self.source, gone)) if self.source else None
            if ours is not None and self.chargers.pop(ours, None) is not None:
                self._sink.remove_charger(ours)
        for raw in receiver_list(data.get("chargers")):
            self._put_charger(raw)
        self._update_note()

    def _take(self, document: DataDocument) -> None:
        """Adopt a document's instance (refusing ourselves), its receivers and chargers."""
        self._adopt(document)
        self._replace(document.receivers)
        self._replace_chargers(document.chargers)

    def _adopt(self, document: DataDocument) -> None:
        """Check who answers; raise UpdateFailed for this app itself or a duplicate."""
        instance = document.instance
        if self._own_id is not None and instance.id == self._own_id:
            raise UpdateFailed(
                f"refused: {self.endpoint.key} is this Micboard Desktop itself "
                "(reading it would loop)"
            )
        source = instance.id or self.endpoint.key
        holder = self._claims.get(source)
        if holder is not None and holder != self.connection_id:
            raise UpdateFailed(f"refused: the same Micboard Desktop as {holder}")
        if self.source is not None and source != self.source:
            # Another instance answers at this address now: its predecessor's receivers go.
            self._claims.pop(self.source, None)
            self._replace([])
            self._replace_chargers([])
        self._claims[source] = self.connection_id
        self.source = source
        self.label = instance.name or self.endpoint.key

    def _replace(self, raws: Sequence[Mapping[str, Any]]) -> None:
        """Make this link's receivers exactly ``raws`` (the whole picture)."""
        before = self.receivers
        self.receivers = {}
        self.echoes, self.too_far = set(), set()
        for raw in raws:
            self._put(raw, before)
        for rid in before.keys() - self.receivers.keys():
            self._sink.remove_receiver(rid)
        self._update_note()

    def _put(self, raw: Mapping[str, Any], before: Mapping[ReceiverId, Receiver] | None = None
             ) -> None:
        """Store one raw receiver unless it is an echo of ours or went too far."""
        rid = remote_id(raw)
        if rid is None or self.source is None:
            return
        chain = chain_of(rid)
        if self._own_id is not None and self._own_id in chain:
            self.echoes.add(rid)
            return
        if len(chain) + 1 > MAX_HOPS:
            self.too_far.add(rid)
            return
        receiver = to_receiver(raw, self.source, self.label)
        if receiver is None:
            return
        known = (self.receivers if before is None else before).get(receiver.id)
        self.receivers[receiver.id] = receiver
        if receiver != known:
            self._sink.put_receiver(receiver)
            self._post_levels(receiver)

    def _post_levels(self, receiver: Receiver) -> None:
        """Hand the levels read to the meters, so tiles and history show them too.

        They move at the pace the other side publishes them (its stored levels, about once
        a second), not at its meter rate: the LAN API carries no meter stream.
        """
        if self._meters is None or not receiver.online:
            return
        for channel in receiver.channels:
            iem = channel.iem
            sample = MeterSample(
                audio_peak_dbfs=iem.left_dbfs if iem is not None else channel.audio.peak_dbfs,
                audio_rms_dbfs=channel.audio.rms_dbfs,
                rssi_dbm=channel.rf.rssi_dbm,
                antenna=channel.rf.antenna,
                audio_right_peak_dbfs=iem.right_dbfs if iem is not None else None,
            )
            if sample != _NO_LEVELS:
                self._meters.post(channel.id, sample)

    def _replace_chargers(self, raws: Sequence[Mapping[str, Any]]) -> None:
        """Make this link's chargers exactly ``raws`` (the whole picture)."""
        before = self.chargers
        self.chargers, self.charger_echoes = {}, set()
        for raw in raws:
            self._put_charger(raw, before)
        for cid in before.keys() - self.chargers.keys():
            self._sink.remove_charger(cid)
        self._update_note()

    def _put_charger(
        self, raw: Mapping[str, Any], before: Mapping[ChargerId, Charger] | None = None
    ) -> None:
        """Store one raw charger unless it started here or went too far."""
        rid = remote_id(raw)
        if rid is None or self.source is None:
            return
        chain = chain_of(rid)
        if (self._own_id is not None and self._own_id in chain) or len(chain) + 1 > MAX_HOPS:
            self.charger_echoes.add(rid)
            return
        charger = to_charger(raw, self.source)
        if charger is None:
            return
        known = (self.chargers if before is None else before).get(charger.id)
        self.chargers[charger.id] = charger
        if charger != known:
            self._sink.put_charger(charger)

    def _forget_remote(self, remote: str) -> None:
        """Remove the receiver the other side removed (its id there)."""
        self.echoes.discard(remote)
        self.too_far.discard(remote)
        if self.source is None:
            return
        ours = local_id(self.source, remote)
        if self.receivers.pop(ours, None) is not None:
            self._sink.remove_receiver(ours)

    def forget_all(self) -> None:
        """Remove every receiver this link put in the store (its address was removed)."""
        for rid in list(self.receivers):
            self._sink.remove_receiver(rid)
        for cid in list(self.chargers):
            self._sink.remove_charger(cid)
        self.receivers, self.chargers = {}, {}

    def _update_note(self) -> None:
        parts: list[str] = []
        if self.echoes:
            parts.append(
                f"Loop refused: {len(self.echoes)} receiver(s) of this laptop came back "
                f"through {self.label}, not shown twice"
            )
        if self.charger_echoes:
            parts.append(
                f"{len(self.charger_echoes)} charger(s) of this laptop or from too far: "
                "left out"
            )
        if self.too_far:
            parts.append(
                f"{len(self.too_far)} receiver(s) passed through more than {MAX_HOPS} "
                "Micboard Desktops: left out"
            )
        if not self.events_live:
            parts.append(f"Its live updates are off: read every {self._poll_seconds:g} s")
        self.set_note("; ".join(parts) or None)

    def _state_changed(self, state: ConnectionState) -> None:
        """Pass the state on; while down, every receiver of this link is offline."""
        self._sink.connection_state(state)
        if state.status is ConnectionStatus.CONNECTED:
            return
        info = state.info()
        last = self.last_message_at
        for rid, receiver in list(self.receivers.items()):
            down = replace(
                receiver, online=False, connection=info, last_seen=last or receiver.last_seen
            )
            if down != receiver:
                self.receivers[rid] = down
                self._sink.put_receiver(down)
        for cid, charger in list(self.chargers.items()):
            off = replace(charger, online=False, connection=info,
                          last_seen=last or charger.last_seen)
            if off != charger:
                self.chargers[cid] = off
                self._sink.put_charger(off)


def _event_data(event: SseEvent) -> Mapping[str, Any]:
    """Return an event's JSON object; a malformed one drops the stream (read again)."""
    try:
        data = json.loads(event.data)
    except ValueError:
        raise UpdateFailed("a malformed event on its stream") from None
    if not isinstance(data, Mapping):
        raise UpdateFailed("a malformed event on its stream")
    return data
