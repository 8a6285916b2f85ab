"""A publisher in its own process, for the last-will test (the parent kills it with SIGKILL).

Usage: python -m tests.integrations.mqtt_child URL PREFIX USER; the password comes from
MICBOARD_MQTT_PASSWORD as in the app. Prints "connected" once the broker has its state.
"""

from __future__ import annotations

import asyncio
import os
import sys

from micboard_desktop.core.integrations import MQTT_PASSWORD_ENV, MqttSettings
from micboard_desktop.core.status import DEFAULT_THRESHOLDS, StatusThresholds
from micboard_desktop.core.store import StateStore
from micboard_desktop.integrations.mqtt import MqttPublisher
from tests.core.builders import make_receiver


def _limits(_code: str) -> StatusThresholds:
    return DEFAULT_THRESHOLDS


async def main(url: str, prefix: str, user: str) -> None:
    store = StateStore()
    store.put_receiver(make_receiver("shure:rx9", channels=2))
    settings = MqttSettings(url=url, topic_prefix=prefix, username=user)
    publisher = MqttPublisher(settings, os.environ.get(MQTT_PASSWORD_ENV), store, _limits,
                              period=0.05)
    publisher.start()
    await asyncio.wait_for(publisher.connected.wait(), 10)
    while publisher.published < 2:  # noqa: ASYNC110 - a counter, no event to wait on
        await asyncio.sleep(0.02)
    print("connected", flush=True)
    await asyncio.Event().wait()  # until killed


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
