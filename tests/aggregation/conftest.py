"""Fixtures of the aggregation tests: a site in the registries, a real Mosquitto broker."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
import shutil
import socket
import subprocess

from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    floor_registry as fr,
)
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.hems.aggregation.const import KIND
from custom_components.hems.const import CONF_KIND, DOMAIN

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"

POWER = {"unit_of_measurement": "W", "device_class": "power", "state_class": "measurement"}
ENERGY = {
    "unit_of_measurement": "kWh",
    "device_class": "energy",
    "state_class": "total_increasing",
}


async def settle(hass: HomeAssistant, seconds: float = 2.0) -> None:
    """Let coalesced writes and debounced rebuilds happen (time moves, no waiting)."""
    await hass.async_block_till_done()
    for _ in range(3):  # a debounced rebuild, then the coalesced write it causes
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
        await hass.async_block_till_done()


def sensor_id(hass: HomeAssistant, entry: MockConfigEntry, node: str, what: str) -> str:
    """The entity id of one of an aggregation's node sensors."""
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.entry_id}_{node}_{what}"
    )
    assert entity_id is not None, f"no {what} sensor for {node}"
    return entity_id


def value(hass: HomeAssistant, entry: MockConfigEntry, node: str, what: str) -> str:
    """The state of a node sensor."""
    state = hass.states.get(sensor_id(hass, entry, node, what))
    assert state is not None
    return state.state


@dataclass
class Site:
    """A small house in the registries: two floors, three areas, devices with sensors."""

    source: MockConfigEntry
    floors: dict[str, str]
    areas: dict[str, str]
    devices: dict[str, str]

    def add_device(
        self, hass: HomeAssistant, name: str, area: str | None, *, energy: bool = True
    ) -> tuple[str, str | None]:
        """A device with a power (and energy) sensor; returns their entity ids."""
        device = dr.async_get(hass).async_get_or_create(
            config_entry_id=self.source.entry_id, identifiers={("test", name)}, name=name
        )
        if area is not None:
            dr.async_get(hass).async_update_device(device.id, area_id=self.areas[area])
        self.devices[name] = device.id
        registry = er.async_get(hass)
        power = registry.async_get_or_create(
            "sensor",
            "test",
            f"{name}_power",
            suggested_object_id=f"{name}_power",
            device_id=device.id,
            original_device_class="power",
            unit_of_measurement="W",
            config_entry=self.source,
        ).entity_id
        energy_id = None
        if energy:
            energy_id = registry.async_get_or_create(
                "sensor",
                "test",
                f"{name}_energy",
                suggested_object_id=f"{name}_energy",
                device_id=device.id,
                original_device_class="energy",
                unit_of_measurement="kWh",
                config_entry=self.source,
            ).entity_id
        return power, energy_id


@pytest.fixture
def site(hass: HomeAssistant) -> Site:
    """Ground floor (kitchen, living), first floor (office), a garden without floor."""
    source = MockConfigEntry(domain="test")
    source.add_to_hass(hass)
    floors = {
        "ground": fr.async_get(hass).async_create("Ground floor", level=0).floor_id,
        "first": fr.async_get(hass).async_create("First floor", level=1).floor_id,
    }
    area_registry = ar.async_get(hass)
    areas = {
        "kitchen": area_registry.async_create("Kitchen", floor_id=floors["ground"]).id,
        "living": area_registry.async_create("Living room", floor_id=floors["ground"]).id,
        "office": area_registry.async_create("Office", floor_id=floors["first"]).id,
        "garden": area_registry.async_create("Garden").id,
    }
    result = Site(source=source, floors=floors, areas=areas, devices={})
    result.add_device(hass, "fridge", "kitchen")
    result.add_device(hass, "oven", "kitchen")
    result.add_device(hass, "tv", "living", energy=False)
    result.add_device(hass, "pc", "office")
    result.add_device(hass, "pump", "garden")
    result.add_device(hass, "loose", None)  # no area: not a member
    # Not members: a diagnostic sensor, a temperature sensor, a group.
    registry = er.async_get(hass)
    registry.async_get_or_create(
        "sensor",
        "test",
        "fridge_rssi_power",
        device_id=result.devices["fridge"],
        original_device_class="power",
        entity_category=er.EntityCategory.DIAGNOSTIC,
    )
    registry.async_get_or_create(
        "sensor",
        "test",
        "fridge_temperature",
        device_id=result.devices["fridge"],
        original_device_class="temperature",
        unit_of_measurement="°C",
    )
    group = registry.async_get_or_create(
        "sensor", "group", "kitchen_sum", unit_of_measurement="W", suggested_object_id="ksum"
    )
    registry.async_update_entity(group.entity_id, area_id=areas["kitchen"])
    return result


def aggregation_entry(hass: HomeAssistant, **data: object) -> MockConfigEntry:
    """An aggregation entry added to hass (not yet set up)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=str(data.get("name", "Home")),
        data={CONF_KIND: KIND, "name": "Home", "source": "registry", **data},
    )
    entry.add_to_hass(hass)
    return entry


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Broker:
    """A Mosquitto broker running as a subprocess."""

    port: int
    config: Path
    process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        """Start it and wait (reading its log, no sleeping) until it listens."""
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config)],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if "running" in line:
                return
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        """Stop it."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            if self.process.stderr is not None:
                self.process.stderr.close()
            self.process = None


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Broker]:
    """A broker on a free 127.0.0.1 port, anonymous, stopped in teardown."""
    port = free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n",
        encoding="utf-8",
    )
    broker = Broker(port=port, config=config)
    broker.start()
    yield broker
    broker.stop()
