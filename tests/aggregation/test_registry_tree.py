"""The hierarchy from Home Assistant's registries, and how it follows them live."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    floor_registry as fr,
)
import pytest

from .conftest import ENERGY, POWER, Site, aggregation_entry, sensor_id, settle, value


async def _setup(hass: HomeAssistant, **data: object) -> object:
    entry = aggregation_entry(hass, **data)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    return entry


def _set_all(hass: HomeAssistant) -> None:
    for name, watts in {"fridge": 100, "oven": 2000, "tv": 80, "pc": 150, "pump": 500}.items():
        hass.states.async_set(f"sensor.{name}_power", str(watts), POWER)
        if name != "tv":
            hass.states.async_set(f"sensor.{name}_energy", "10", ENERGY)
    hass.states.async_set("sensor.loose_power", "999", POWER)


async def test_tree_from_registries(hass: HomeAssistant, site: Site) -> None:
    """Site -> floors -> areas; sums, counts and which entities are not members."""
    _set_all(hass)
    entry = await _setup(hass)
    assert entry.state is ConfigEntryState.LOADED
    aggregator = entry.runtime_data.aggregator
    kitchen = f"area:{site.areas['kitchen']}"
    ground = f"floor:{site.floors['ground']}"
    assert set(aggregator.nodes) == {
        "site",
        ground,
        f"floor:{site.floors['first']}",
        kitchen,
        f"area:{site.areas['living']}",
        f"area:{site.areas['office']}",
        f"area:{site.areas['garden']}",
    }
    # Diagnostic, temperature, group and area-less sensors are not members.
    assert aggregator.nodes[kitchen].own_members == [
        "sensor.fridge_energy",
        "sensor.fridge_power",
        "sensor.oven_energy",
        "sensor.oven_power",
    ]
    assert value(hass, entry, "site", "power") == "2830.0"
    assert value(hass, entry, ground, "power") == "2180.0"
    assert value(hass, entry, kitchen, "power") == "2100.0"
    assert value(hass, entry, "site", "reporting") == "9"
    assert value(hass, entry, "site", "energy") == "0.0"
    # Energy builds from increases.
    hass.states.async_set("sensor.fridge_energy", "10.5", ENERGY)
    hass.states.async_set("sensor.pump_energy", "11", ENERGY)
    await settle(hass)
    assert value(hass, entry, "site", "energy") == "1.5"
    assert value(hass, entry, ground, "energy") == "0.5"
    # The entities are energy-dashboard ready and named after their node.
    site_energy = hass.states.get(sensor_id(hass, entry, "site", "energy"))
    assert site_energy is not None
    assert site_energy.attributes["state_class"] == "total_increasing"
    assert site_energy.attributes["device_class"] == "energy"
    assert site_energy.attributes["unit_of_measurement"] == "kWh"
    assert site_energy.entity_id == "sensor.home_site_energy"
    assert sensor_id(hass, entry, kitchen, "power") == "sensor.home_kitchen_power"
    reporting = er.async_get(hass).async_get(sensor_id(hass, entry, kitchen, "reporting"))
    assert reporting is not None
    assert reporting.entity_category is er.EntityCategory.DIAGNOSTIC
    # One device for the entry.
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert [device.name for device in devices] == ["Home"]
    # No unmeasured sensors without a site meter.
    assert (
        er.async_get(hass).async_get_entity_id(
            "sensor", "hems", f"{entry.entry_id}_site_unmeasured_power"
        )
        is None
    )
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_unavailable_reset_and_unit_change(hass: HomeAssistant, site: Site) -> None:
    """An unavailable member is left out and listed; resets and unit changes never jump."""
    _set_all(hass)
    entry = await _setup(hass)
    kitchen = f"area:{site.areas['kitchen']}"
    hass.states.async_set("sensor.oven_power", STATE_UNAVAILABLE, POWER)
    await settle(hass)
    assert value(hass, entry, kitchen, "power") == "100.0"
    power = hass.states.get(sensor_id(hass, entry, "site", "power"))
    assert power is not None
    assert power.state == "830.0"
    assert power.attributes["unavailable_members"] == ["sensor.oven_power"]
    assert power.attributes["members"] == 9
    assert value(hass, entry, "site", "reporting") == "8"
    # One member back, another gone at once: same count, the list still follows.
    hass.states.async_set("sensor.oven_power", "2000", POWER)
    hass.states.async_set("sensor.pc_power", STATE_UNAVAILABLE, POWER)
    hass.states.async_set("sensor.pump_power", "650", POWER)
    await settle(hass)
    power = hass.states.get(sensor_id(hass, entry, "site", "power"))
    assert power is not None
    assert power.attributes["unavailable_members"] == ["sensor.pc_power"]
    hass.states.async_set("sensor.oven_power", STATE_UNAVAILABLE, POWER)
    hass.states.async_set("sensor.pc_power", "150", POWER)
    hass.states.async_set("sensor.pump_power", "500", POWER)
    await settle(hass)
    # Every power member gone: unknown, not zero.
    hass.states.async_set("sensor.fridge_power", STATE_UNKNOWN, POWER)
    await settle(hass)
    assert value(hass, entry, kitchen, "power") == STATE_UNKNOWN
    # Energy: reset, outage, unit change, removal and re-adding.
    steps = [
        ("12", "kWh", "2.0"),
        ("0", "kWh", "2.0"),  # reset (suspected)
        ("0.5", "kWh", "2.5"),  # confirmed: counts from 0
        (STATE_UNAVAILABLE, "kWh", "2.5"),
        ("1", "kWh", "3.0"),
        ("1000", "Wh", "3.0"),  # same reading in Wh
        ("1500", "Wh", "3.5"),
        ("1.5", "Wh", "3.5"),  # unit label changed without scaling: re-based, no drop
        ("3.5", "Wh", "3.502"),
    ]
    for raw, unit, expected in steps:
        hass.states.async_set("sensor.fridge_energy", raw, {**ENERGY, "unit_of_measurement": unit})
        await settle(hass)
        assert value(hass, entry, kitchen, "energy") == expected, (raw, unit)
    hass.states.async_remove("sensor.fridge_energy")
    await settle(hass)
    assert value(hass, entry, kitchen, "energy") == "3.502"
    assert value(hass, entry, kitchen, "reporting") == "1"  # only the oven energy
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_follows_registry_changes(hass: HomeAssistant, site: Site) -> None:
    """Moving a device, adding an area and a floor, removing a sensor: no restart needed."""
    _set_all(hass)
    entry = await _setup(hass)
    runtime = entry.runtime_data
    kitchen = f"area:{site.areas['kitchen']}"
    office = f"area:{site.areas['office']}"
    hass.states.async_set("sensor.oven_energy", "14", ENERGY)
    await settle(hass)
    assert value(hass, entry, kitchen, "energy") == "4.0"
    # Move the oven to the office: power follows, energy so far stays with the kitchen.
    dr.async_get(hass).async_update_device(site.devices["oven"], area_id=site.areas["office"])
    await settle(hass)
    assert value(hass, entry, kitchen, "power") == "100.0"
    assert value(hass, entry, office, "power") == "2150.0"
    assert value(hass, entry, kitchen, "energy") == "4.0"
    hass.states.async_set("sensor.oven_energy", "15", ENERGY)
    await settle(hass)
    assert value(hass, entry, office, "energy") == "1.0"
    assert value(hass, entry, kitchen, "energy") == "4.0"
    assert value(hass, entry, "site", "energy") == "5.0"
    # A new floor with a new area with a device.
    attic_floor = fr.async_get(hass).async_create("Attic", level=2)
    attic = ar.async_get(hass).async_create("Loft", floor_id=attic_floor.floor_id)
    site.areas["loft"] = attic.id
    power_id, _ = site.add_device(hass, "heater", "loft", energy=False)
    hass.states.async_set(power_id, "1000", POWER)
    await settle(hass)
    loft = f"area:{attic.id}"
    assert value(hass, entry, loft, "power") == "1000.0"
    assert value(hass, entry, f"floor:{attic_floor.floor_id}", "power") == "1000.0"
    assert value(hass, entry, "site", "power") == "3830.0"
    # Removing the only sensor of the garden removes the garden node and its sensors.
    garden = f"area:{site.areas['garden']}"
    garden_power = sensor_id(hass, entry, garden, "power")
    er.async_get(hass).async_remove("sensor.pump_power")
    er.async_get(hass).async_remove("sensor.pump_energy")
    await settle(hass)
    assert garden not in runtime.aggregator.nodes
    assert hass.states.get(garden_power) is None
    assert er.async_get(hass).async_get(garden_power) is None
    assert value(hass, entry, "site", "power") == "3330.0"
    # A change that does not matter (a name) does not rebuild.
    rebuilds = runtime.rebuilds
    er.async_get(hass).async_update_entity("sensor.pc_power", name="Computer")
    await settle(hass)
    assert runtime.rebuilds == rebuilds
    # An area rename renames nothing but the tree (entity ids stay).
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_site_meter_and_own_entities_are_not_members(hass: HomeAssistant, site: Site) -> None:
    """The site meter in an area is not a member; it gives the unmeasured sensors."""
    _set_all(hass)
    meter, meter_energy = site.add_device(hass, "grid", "garden")
    hass.states.async_set(meter, "4000", POWER)
    assert meter_energy is not None
    hass.states.async_set(meter_energy, "100", ENERGY)
    entry = await _setup(hass, site_power=meter, site_energy=meter_energy)
    assert meter not in entry.runtime_data.aggregator.members or (
        entry.runtime_data.aggregator.members[meter].is_meter
    )
    assert value(hass, entry, "site", "power") == "2830.0"
    assert value(hass, entry, "site", "unmeasured_power") == "1170.0"
    hass.states.async_set("sensor.pc_energy", "11", ENERGY)
    hass.states.async_set(meter_energy, "103", ENERGY)
    await settle(hass)
    assert value(hass, entry, "site", "unmeasured_energy") == "2.0"
    # The meter reporting before the members: the unmeasured part runs ahead, then waits
    # (it never runs backwards) until the difference grows past it again.
    hass.states.async_set(meter_energy, "104", ENERGY)
    await settle(hass)
    assert value(hass, entry, "site", "unmeasured_energy") == "3.0"
    hass.states.async_set("sensor.pc_energy", "12", ENERGY)
    await settle(hass)
    assert value(hass, entry, "site", "unmeasured_energy") == "3.0"
    hass.states.async_set(meter_energy, "106", ENERGY)
    await settle(hass)
    assert value(hass, entry, "site", "unmeasured_energy") == "4.0"
    # A second aggregation never takes the first one's sensors as members.
    other = await _setup(hass, name="Other")
    assert not any(eid.startswith("sensor.home_") for eid in other.runtime_data.aggregator.members)
    # ... nor does the first after a rebuild triggered by the second's entities.
    assert not any(eid.startswith("sensor.other_") for eid in entry.runtime_data.aggregator.members)
    for each in (entry, other):
        assert await hass.config_entries.async_unload(each.entry_id)


@pytest.mark.parametrize("restart", [True])
async def test_totals_survive_a_restart(hass: HomeAssistant, site: Site, restart: bool) -> None:
    """Energy totals and member counters are stored on unload and restored."""
    _set_all(hass)
    entry = await _setup(hass)
    hass.states.async_set("sensor.pc_energy", "12", ENERGY)
    await settle(hass)
    assert value(hass, entry, "site", "energy") == "2.0"
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    # While it was down the PC used one more kWh.
    hass.states.async_set("sensor.pc_energy", "13", ENERGY)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    assert value(hass, entry, "site", "energy") == "3.0"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_removing_the_entry_deletes_its_totals(
    hass: HomeAssistant, site: Site, hass_storage: dict[str, object]
) -> None:
    """The stored totals go with the entry; a new entry starts from zero."""
    _set_all(hass)
    entry = await _setup(hass)
    hass.states.async_set("sensor.pc_energy", "12", ENERGY)
    await settle(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    key = f"hems.aggregation.{entry.entry_id}"
    assert key in hass_storage
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage
