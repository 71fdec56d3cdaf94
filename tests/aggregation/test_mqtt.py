"""Publishing through HA's MQTT integration to a real Mosquitto broker on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
import json
import logging
from pathlib import Path
import queue
from typing import Any

from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from .conftest import ENERGY, POWER, Broker, Site, aggregation_entry, settle

TREE = """
Company/Office A/Room 1: sensor.fridge_power, sensor.fridge_energy
Company/Office A/Room 2: sensor.pc_power
Company/Office B: sensor.pump_power
"""


class Subscriber:
    """A paho client of the test that collects every message under a prefix."""

    def __init__(self, port: int, topic: str) -> None:
        self.messages: queue.Queue[tuple[str, bytes, bool]] = queue.Queue()
        self.client = paho.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(topic, qos=1)
        self.client.loop_start()

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        self.messages.put((message.topic, message.payload, bool(message.retain)))

    async def collect(self, hass: HomeAssistant, until: str) -> dict[str, Any]:
        """Messages (topic -> JSON) up to and including topic ``until``."""
        seen: dict[str, Any] = {}
        while True:
            topic, payload, retained = await hass.async_add_executor_job(
                self.messages.get, True, 20
            )
            seen[topic] = {"data": json.loads(payload), "retained": retained}
            if topic == until:
                return seen

    def close(self) -> None:
        """Disconnect and stop its thread."""
        self.client.disconnect()
        self.client.loop_stop()


async def _wait_connected(hass: HomeAssistant, connected: bool) -> None:
    for _ in range(400):
        if mqtt.is_connected(hass) is connected:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"MQTT never became connected={connected}")


@pytest.fixture
async def mqtt_entry(
    hass: HomeAssistant, socket_enabled: None, mosquitto: Broker, tmp_path: Path
) -> AsyncIterator[MockConfigEntry]:
    """HA's MQTT integration connected to the test broker."""
    # MQTT reads configuration.yaml on set-up; the test harness's config dir has none.
    (tmp_path / "configuration.yaml").write_text("", encoding="utf-8")
    hass.config.config_dir = str(tmp_path)
    entry = MockConfigEntry(
        domain="mqtt",
        data={"broker": "127.0.0.1", "port": mosquitto.port},
        # No birth message: stopping the broker mid-test would fail HA's own birth task.
        options={"birth_message": {}},
        version=1,
        minor_version=2,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await _wait_connected(hass, True)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_publishes_every_node(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, mosquitto: Broker
) -> None:
    """Each node's power and energy as JSON with timestamp; the tree retained."""
    for name, watts in {"fridge": 100, "pc": 150, "pump": 500}.items():
        hass.states.async_set(f"sensor.{name}_power", str(watts), POWER)
    hass.states.async_set("sensor.fridge_energy", "7", ENERGY)
    hass.states.async_set("sensor.site_meter", "1000", POWER)
    entry = aggregation_entry(
        hass,
        source="explicit",
        tree=TREE,
        site_power="sensor.site_meter",
        mqtt_publish=True,
        mqtt_prefix="test/agg",
        mqtt_interval=10,
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    hass.states.async_set("sensor.fridge_energy", "7.25", ENERGY)
    await settle(hass)
    subscriber = Subscriber(mosquitto.port, "test/agg/#")
    try:
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11))
        await hass.async_block_till_done()
        seen = await subscriber.collect(hass, "test/agg/company/office_b/energy")
    finally:
        subscriber.close()
    tree = seen["test/agg/company/tree"]
    assert tree["retained"] is False  # a live message; the retained copy is checked below
    assert tree["data"]["name"] == "Company"
    assert [child["name"] for child in tree["data"]["children"]] == ["Office A", "Office B"]
    assert tree["data"]["meters"] == ["sensor.site_meter"]
    site_power = seen["test/agg/company/power"]["data"]
    assert site_power["value"] == 750.0
    assert site_power["unit"] == "W"
    assert site_power["reporting"] == 4
    assert dt_util.parse_datetime(site_power["timestamp"]) is not None
    assert seen["test/agg/company/office_a/power"]["data"]["value"] == 250.0
    assert seen["test/agg/company/office_a/room_1/energy"]["data"]["value"] == 0.25
    assert seen["test/agg/company/unmeasured/power"]["data"]["value"] == 250.0
    # A late subscriber gets the retained tree description.
    late = Subscriber(mosquitto.port, "test/agg/company/tree")
    try:
        retained = await late.collect(hass, "test/agg/company/tree")
    finally:
        late.close()
    assert retained["test/agg/company/tree"]["retained"] is True
    assert entry.runtime_data.mqtt.published >= 10
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_nothing_published_while_mqtt_is_down(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    mosquitto: Broker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Broker gone: publishing pauses with one log line, not a flood; then resumes."""
    hass.states.async_set("sensor.fridge_power", "100", POWER)
    entry = aggregation_entry(
        hass,
        source="explicit",
        tree="Home/Kitchen: sensor.fridge_power",
        mqtt_publish=True,
        mqtt_interval=5,
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    runtime = entry.runtime_data
    mosquitto.stop()
    await _wait_connected(hass, False)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="custom_components.hems.aggregation"):
        published = runtime.mqtt.published
        for step in range(1, 6):
            async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=5 * step + 1))
            await hass.async_block_till_done()
        assert runtime.mqtt.paused
        assert runtime.mqtt.published == published
        pauses = [r for r in caplog.records if "pauses publishing" in r.getMessage()]
        assert len(pauses) == 1
        ours = [r for r in caplog.records if r.name.startswith("custom_components.hems")]
        assert not [r for r in ours if r.levelno >= logging.WARNING]
        # The broker comes back; HA's MQTT client reconnects; publishing resumes.
        mosquitto.start()
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=60))
        await _wait_connected(hass, True)
        subscriber = Subscriber(mosquitto.port, "hems/home/#")
        try:
            async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=90))
            await hass.async_block_till_done()
            seen = await subscriber.collect(hass, "hems/home/kitchen/energy")
        finally:
            subscriber.close()
        assert "hems/home/tree" in seen
        assert seen["hems/home/kitchen/power"]["data"]["value"] == 100.0
        assert not runtime.mqtt.paused
        assert any("resumes publishing" in r.getMessage() for r in caplog.records)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_publish_errors_are_logged_once(
    hass: HomeAssistant, site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """MQTT set up but publishing fails: one warning, not one per node and interval."""
    hass.states.async_set("sensor.fridge_power", "100", POWER)
    entry = aggregation_entry(hass, mqtt_publish=True, mqtt_interval=5)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    runtime = entry.runtime_data
    # Pretend the client is connected but MQTT has no config entry: publish raises.
    hass.config.components.add("mqtt")
    runtime._mqtt_connected = lambda: True  # type: ignore[method-assign]
    for step in range(1, 4):
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=5 * step + 1))
        await hass.async_block_till_done()
    warnings = [r for r in caplog.records if "Publishing Home to MQTT failed" in r.getMessage()]
    assert len(warnings) == 1
    assert runtime.mqtt.failing
    assert await hass.config_entries.async_unload(entry.entry_id)
