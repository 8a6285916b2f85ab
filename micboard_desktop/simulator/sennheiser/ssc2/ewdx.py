"""The EW-DX (EM 2 / EM 4) SSCv2 resource tree, as far as the protocol reference knows it.

Confirmed only second-hand (one RFDeck/Meros rig, "OpenAPI 1.7"): ``/api/channel/{id}``
(``name``, ``mute``), ``/api/channel/{id}/level`` and ``/signalQualityIndicator``
(``{"value": …}``), ``/api/channel/{id}/warnings``, ``/api/rf/channels/{id}`` (``frequency``
kHz), ``/api/transmitters/{id}/battery`` (``gauge`` %, 422 without a transmitter) and
``identity.product`` ``EWDX2CHDS``. Channel ids are 0-based (EM 2: 0-1, EM 4: 0-3).

Inferred here [INF] and to be checked against a real ``/api/ssc/schema`` dump:

* ``product``: the rig model when it is already a compact code, else ``EWDX<n>CHDS``.
* ``/api/rf/channels`` is a collection; items carry ``rfChannelId`` next to ``frequency``.
  Frequency writes are accepted (470200-1999000 kHz, 25 kHz steps as in SSCv1), 422 otherwise.
* ``/api/channel/{id}.mute`` is the receiver's audio-output mute (``SimChannel.audio_muted``,
  like SSCv1 ``/rx{n}/mute``); the transmitter's mute switch shows in ``/api/transmitters/{id}``.
* Channel names follow the SSCv1 rule (at most 8 characters, else 422); case is kept.
* ``/api/channel/{id}/warnings`` is a bare array using the SSCv1 names ``NoLink``/``LowSignal``.
* ``/api/transmitters`` (collection) with items ``{"type", "mute"}`` present only while a
  transmitter is linked and on (404 otherwise); ``type`` is the last word of the rig model
  (``EW-DX SKM`` → ``SKM``, as SSCv1 reports it). The battery resource adds ``type``
  (``Battery`` / ``Primary Cell``) and ``lifetime`` in minutes (0 = unknown, as SSCv1
  clients read it).
* ``level`` is the channel's audio peak in dBFS; ``signalQualityIndicator`` is the rig's
  quality percent, 0 without a carrier. Both are meters (sampled, not announced).
"""

from __future__ import annotations

from micboard_desktop.simulator.rig import SimChannel
from micboard_desktop.simulator.sennheiser.ssc2.resources import (
    Json,
    JsonObject,
    ResourceTree,
    SscError,
    fields,
    is_product_code,
    text,
)

FREQUENCY_MIN_KHZ = 470_200
FREQUENCY_MAX_KHZ = 1_999_000
FREQUENCY_STEP_KHZ = 25
NAME_MAX = 8
LOW_SIGNAL_PERCENT = 30
"""Quality below which the channel reports ``LowSignal`` [INF]."""


def _battery_kind(battery_type: str) -> str:
    # SSCv1 knows only a rechargeable pack ("Battery") and everything else ("Primary Cell").
    return "Battery" if battery_type.upper() in {"LION", "BA70", "BATTERY"} else "Primary Cell"


def _tx_type(model: str) -> str:
    words = model.split()
    return words[-1].upper() if words else "UNKNOWN"


class EwdxTree(ResourceTree):
    """Resources of an EW-DX EM 2 / EM 4 receiver."""

    @property
    def product(self) -> str:
        """Return ``identity.product`` (``EWDX2CHDS`` style)."""
        model = self.receiver.model
        return model if is_product_code(model) else f"EWDX{len(self.receiver.channels)}CHDS"

    def _ids(self) -> list[str]:
        return [str(ch.number - 1) for ch in self.receiver.channels]

    def _linked_ids(self) -> list[str]:
        return [str(ch.number - 1) for ch in self.receiver.channels if ch.transmitter_active]

    def register(self) -> None:
        """Register the channel, RF and transmitter resources of every channel."""
        self.add_collection("/api/rf/channels", self._ids)
        self.add_collection("/api/transmitters", self._linked_ids)
        for ch in self.receiver.channels:
            self._register_channel(ch)

    def _register_channel(self, ch: SimChannel) -> None:
        base = f"/api/channel/{ch.number - 1}"
        self.add(base, lambda: self._channel(ch), lambda body: self._put_channel(base, ch, body))
        self.add(f"{base}/level", lambda: {"value": round(float(ch.audio_peak_dbfs), 1)}, fast=True)
        self.add(
            f"{base}/signalQualityIndicator",
            lambda: {"value": ch.quality if ch.transmitter_active else 0},
            fast=True,
        )
        self.add(f"{base}/warnings", lambda: self._warnings(ch))
        rf = f"/api/rf/channels/{ch.number - 1}"
        self.add(rf, lambda: self._rf(ch), lambda body: self._put_rf(rf, ch, body))
        tx = f"/api/transmitters/{ch.number - 1}"
        self.add(tx, lambda: self._transmitter(ch))
        self.add(f"{tx}/battery", lambda: self._battery(ch))

    # --- bodies -----------------------------------------------------------------------------

    @staticmethod
    def _channel(ch: SimChannel) -> Json:
        return {"name": ch.name, "mute": ch.audio_muted}

    @staticmethod
    def _warnings(ch: SimChannel) -> Json:
        if not ch.transmitter_active:
            return ["NoLink"]
        return ["LowSignal"] if ch.quality < LOW_SIGNAL_PERCENT else []

    @staticmethod
    def _rf(ch: SimChannel) -> Json:
        return {"rfChannelId": ch.number - 1, "frequency": ch.frequency_khz}

    @staticmethod
    def _transmitter(ch: SimChannel) -> Json:
        tx = ch.transmitter
        if tx is None or not tx.on:
            return None
        return {"type": _tx_type(tx.model), "mute": tx.muted}

    @staticmethod
    def _battery(ch: SimChannel) -> Json:
        tx = ch.transmitter
        if tx is None or not tx.on:
            return None
        return {
            "gauge": round(tx.battery_percent),
            "type": _battery_kind(tx.battery_type),
            "lifetime": tx.battery_minutes or 0,
        }

    # --- writes -----------------------------------------------------------------------------

    def _put_channel(self, path: str, ch: SimChannel, body: JsonObject) -> None:
        fields(path, body, {"name": str, "mute": bool})
        # Validate everything before mutating so a refused write changes nothing.
        name = text(path, body["name"], NAME_MAX) if "name" in body else None
        mute = body.get("mute")
        if name is not None and name != ch.name:
            ch.name = name
            self.rig.changed(self.receiver, ch, "channel_name")
        if isinstance(mute, bool) and ch.audio_muted != mute:
            ch.audio_muted = mute
            self.rig.changed(self.receiver, ch, "audio_mute")

    def _put_rf(self, path: str, ch: SimChannel, body: JsonObject) -> None:
        fields(path, body, {"frequency": int})
        frequency = body["frequency"]
        assert isinstance(frequency, int)  # checked by fields()
        if (
            not FREQUENCY_MIN_KHZ <= frequency <= FREQUENCY_MAX_KHZ
            or (frequency - FREQUENCY_MIN_KHZ) % FREQUENCY_STEP_KHZ
        ):
            raise SscError(422, path)
        if frequency != ch.frequency_khz:
            ch.frequency_khz = frequency
            self.rig.changed(self.receiver, ch, "frequency")
