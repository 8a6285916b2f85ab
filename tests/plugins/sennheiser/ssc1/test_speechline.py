"""SpeechLine DW over SSCv1 end to end: the simulator's flat ``bat_*`` names reach the sink."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import Receiver
from micboard_desktop.plugins.sennheiser.ssc1.coordinator import Ssc1Coordinator
from micboard_desktop.simulator.rig import SimReceiver
from micboard_desktop.simulator.sennheiser.ssc1.server import Ssc1Server
from tests.plugins.sennheiser.ssc1.helpers import (
    FAST,
    RecordingSink,
    rig,
    speechline_receiver,
    wait_for,
)


@contextlib.asynccontextmanager
async def _live(device: SimReceiver) -> AsyncIterator[tuple[Ssc1Coordinator, RecordingSink]]:
    server = Ssc1Server(rig(device), device, seed=9)
    await server.start()
    sink = RecordingSink()
    coordinator = Ssc1Coordinator("127.0.0.1", server.port, meters=MeterBus(), sink=sink, **FAST)
    await coordinator.start()
    try:
        yield coordinator, sink
    finally:
        await coordinator.stop()
        await server.stop()


def receiver(sink: RecordingSink) -> Receiver | None:
    return next(iter(sink.receivers.values()), None)


def has_tx(sink: RecordingSink) -> bool:
    rx = receiver(sink)
    return (
        rx is not None
        and rx.online
        and bool(rx.channels)
        and rx.channels[0].transmitter is not None
    )


async def test_rack_receiver_lifetime_seconds_and_bars_reach_the_sink() -> None:
    async with _live(speechline_receiver()) as (_coordinator, sink):
        await wait_for(lambda: has_tx(sink))
        rx = receiver(sink)
        assert rx is not None
        assert (rx.model, rx.name, rx.serial) == ("SL Rack Receiver DW", "SL DESK", "5000123")
        # The rack has no /rx1 addresses (404): its one channel comes from the product.
        (lectern,) = rx.channels
        assert lectern.transmitter is not None
        battery = lectern.transmitter.battery
        assert battery.minutes == 226  # bat_lifetime 13,560 s
        assert battery.bars == 3  # bat_bars
        assert battery.percent is None  # the rack reports no gauge
        assert not sink.chargers


async def test_mcr_gauge_and_an_absent_transmitter() -> None:
    async with _live(speechline_receiver("SL MCR 2 DW")) as (_coordinator, sink):
        await wait_for(lambda: has_tx(sink) and len(receiver(sink).channels) == 2)  # type: ignore[union-attr]
        lectern, chair = receiver(sink).channels  # type: ignore[union-attr]
        assert lectern.transmitter is not None
        assert (lectern.transmitter.battery.percent, lectern.transmitter.battery.minutes) == (
            64,
            226,
        )
        assert chair.transmitter is None  # 424 on /mates/tx2
