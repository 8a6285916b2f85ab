"""Small SSCv1 rigs, a recording sink and a waiting helper for the SSCv1 tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from micboard_desktop.core.coordinator import Backoff, ConnectionState
from micboard_desktop.core.model import Receiver, ReceiverId
from micboard_desktop.simulator.rig import Rig, SimBay, SimChannel, SimReceiver, SimTransmitter
from tests.plugins.charger_recording import RecordsChargers

FAST: dict[str, Any] = {
    "timeout": 1.0,
    "poll_period": 0.2,
    "requery_interval": 1.0,
    "backoff": Backoff(initial_seconds=0.05, maximum_seconds=0.3),
}


def ewdx_receiver(*, ssc1: bool = True) -> SimReceiver:
    """An EM 4: ch1 SKM rechargeable, ch2 nothing linked, ch3 switched off, ch4 SK on AA."""
    return SimReceiver(
        protocol="sennheiser_ssc2",
        family="ewdx",
        model="EW-DX EM 4 DANTE",
        name="EM4 STAGE",
        serial="1234567890",
        ssc1=ssc1,
        channels=[
            SimChannel(
                1, "Vox", 550_000, SimTransmitter("EW-DX SKM", battery_percent=80.4), quality=87
            ),
            SimChannel(2, "Gtr", 551_000, None, quality=0),
            SimChannel(3, "Keys", 552_000, SimTransmitter("EW-DX SK", on=False), quality=0),
            SimChannel(
                4,
                "Horn",
                553_000,
                SimTransmitter(
                    "EW-DX SK", battery_type="ALKA", battery_minutes=None, battery_percent=55
                ),
                quality=64,
            ),
        ],
    )


def d6000_receiver() -> SimReceiver:
    """An EM 6000: ch1 SKM 6000 at 50 % with 3:05 left, ch2 without transmitter."""
    return SimReceiver(
        protocol="sennheiser_ssc1",
        family="d6000",
        model="EM6000",
        name="D6K",
        serial="6000123",
        channels=[
            SimChannel(
                1,
                "Lead",
                606_500,
                SimTransmitter("SKM 6000", battery_percent=50, battery_minutes=185),
                rssi_dbm=[-86.0, -101.0],
                audio_peak_dbfs=-45.0,
                quality=128,
            ),
            SimChannel(2, "Guest", 612_250, None),
        ],
    )


def chg70n_charger() -> SimReceiver:
    """A CHG 70N: bay 1 an EW-DX SKM at 55 % (health 93 %, 57 cycles), bay 2 empty."""
    pack = SimTransmitter("EW-DX SKM", battery_percent=55.0)
    pack.battery_health_percent, pack.battery_cycles = 93, 57
    return SimReceiver(
        protocol="sennheiser_ssc1",
        family="chg70n",
        model="CHG 70N",
        name="CHG SIDE",
        serial="7000001",
        channels=[],
        bays=[SimBay(1, pack, charge_per_minute=0.5), SimBay(2, None)],
    )


def _pack(model: str, percent: float, health: int = 96, cycles: int = 12) -> SimTransmitter:
    pack = SimTransmitter(model, battery_percent=percent)
    pack.battery_health_percent, pack.battery_cycles = health, cycles
    return pack


def l6000_charger() -> SimReceiver:
    """An L 6000: eight bays in four slots, one of each kind the reference names.

    1 charging (55 %, 1:30 to full), 2 full, 3 empty, 4 a pack not read yet (sentinels),
    5 defect, 6 too hot, 7 regenerating, 8 an SKM 6000 pack at 90 % (slot 4: LM 6061).
    """
    bays = [
        SimBay(1, _pack("SK 6000", 55.0), charge_per_minute=0.5),
        SimBay(2, _pack("SK 6000", 100.0, cycles=40)),
        SimBay(3, None),
        SimBay(4, _pack("SK 6000", 20.0), unread=True),
        SimBay(5, _pack("SK 6000", 10.0, health=31), state="fault"),
        SimBay(6, _pack("SK 6000", 70.0), state="too hot"),
        SimBay(7, _pack("SKM 6000", 30.0), state="regenerating"),
        SimBay(8, _pack("SKM 6000", 90.0), charge_per_minute=0.5),
    ]
    return SimReceiver(
        protocol="sennheiser_ssc1",
        family="l6000",
        model="L6000",
        name="L6K",
        serial="6000999",
        channels=[],
        bays=bays,
    )


def speechline_receiver(model: str = "SL Rack Receiver DW") -> SimReceiver:
    """A SpeechLine DW receiver: ch1 a rechargeable pack at 64 % with 3:46 left."""
    tx = SimTransmitter("SL BP DW", battery_percent=64.0, battery_minutes=226)
    channels = [SimChannel(1, "Lectern", 0, tx)]
    if "MCR" in model.upper():
        channels.append(SimChannel(2, "Chair", 0, None))
    return SimReceiver(
        protocol="sennheiser_ssc1",
        family="speechline",
        model=model,
        name="SL DESK",
        serial="5000123",
        channels=channels,
    )


def rig(*receivers: SimReceiver) -> Rig:
    """A rig of ``receivers``."""
    return Rig(list(receivers))


class RecordingSink(RecordsChargers):
    """A DeviceSink that keeps receivers as the store would (update_receiver applied)."""

    def __init__(self) -> None:
        self.receivers: dict[ReceiverId, Receiver] = {}
        self.states: list[ConnectionState] = []
        self.removed: list[ReceiverId] = []
        self.changed = asyncio.Event()

    def put_receiver(self, receiver: Receiver) -> None:
        self.receivers[receiver.id] = receiver
        self.changed.set()

    def update_receiver(
        self, rid: ReceiverId, update: Callable[[Receiver | None], Receiver | None]
    ) -> None:
        new = update(self.receivers.get(rid))
        if new is None:
            self.receivers.pop(rid, None)
        else:
            self.receivers[rid] = new
        self.changed.set()

    def remove_receiver(self, rid: ReceiverId) -> None:
        self.removed.append(rid)
        self.receivers.pop(rid, None)
        self.changed.set()

    def connection_state(self, state: ConnectionState) -> None:
        self.states.append(state)
        self.changed.set()


async def wait_for(check: Callable[[], bool], seconds: float = 5.0) -> None:
    """Wait until ``check()`` holds (polled every 10 ms); fail after ``seconds``."""
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 - polling state that has no event of its own
            await asyncio.sleep(0.01)
