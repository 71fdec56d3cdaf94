"""Fixtures for the loadpoint's HA tests: helper entities act as charger and meter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hems.const import CONF_KIND, DOMAIN
from custom_components.hems.loadpoint.config_flow import default_options
from custom_components.hems.loadpoint.const import (
    CONF_CHARGER_CONNECTED,
    CONF_CHARGER_CURRENT,
    CONF_CHARGER_ENABLE,
    CONF_CHARGER_PHASES,
    CONF_CHARGER_POWER,
    CONF_GRID_POWER,
    CONF_GRID_SIGN,
    CONF_VEHICLE_SOC,
    GRID_IMPORT_POSITIVE,
    KIND,
)

GRID = "sensor.grid_power"
ENABLE = "input_boolean.charger_enable"
CURRENT = "input_number.charger_current"
PHASES = "input_select.charger_phases"
PLUGGED = "input_boolean.car_plugged"
VEHICLE_SOC = "input_number.vehicle_soc"
CHARGER_POWER = "sensor.charger_power"

ENTRY_DATA: dict[str, Any] = {
    CONF_KIND: KIND,
    CONF_GRID_POWER: GRID,
    CONF_GRID_SIGN: GRID_IMPORT_POSITIVE,
    CONF_CHARGER_ENABLE: ENABLE,
    CONF_CHARGER_CURRENT: CURRENT,
    CONF_CHARGER_POWER: CHARGER_POWER,
    CONF_CHARGER_PHASES: PHASES,
    CONF_CHARGER_CONNECTED: PLUGGED,
    CONF_VEHICLE_SOC: VEHICLE_SOC,
}

POWER_TEMPLATE = (
    "{% if is_state('input_boolean.charger_enable', 'on') "
    "and is_state('input_boolean.car_plugged', 'on') %}"
    "{{ (states('input_number.charger_current') | float(0)) * 230"
    " * (states('input_select.charger_phases') | int(1)) }}"
    "{% else %}0{% endif %}"
)

# A second, 1-phase charger that is always plugged in.
ENABLE2 = "input_boolean.charger2_enable"
CURRENT2 = "input_number.charger2_current"
CHARGER2_POWER = "sensor.charger2_power"
POWER2_TEMPLATE = (
    "{% if is_state('input_boolean.charger2_enable', 'on') %}"
    "{{ (states('input_number.charger2_current') | float(0)) * 230 }}"
    "{% else %}0{% endif %}"
)


@pytest.fixture
async def charger(hass: HomeAssistant) -> None:
    """A charger made of helpers: enable, current, phases, plugged, and a power template."""
    assert await async_setup_component(
        hass,
        "input_boolean",
        {
            "input_boolean": {
                "charger_enable": {},
                "car_plugged": {"initial": True},
                "three_phase": {"initial": True},
                "charger2_enable": {},
            }
        },
    )
    assert await async_setup_component(
        hass,
        "input_number",
        {
            "input_number": {
                "charger_current": {"min": 0, "max": 32, "step": 1, "initial": 0},
                "vehicle_soc": {"min": 0, "max": 100, "step": 1, "initial": 40},
                "charger2_current": {"min": 0, "max": 32, "step": 1, "initial": 0},
            }
        },
    )
    assert await async_setup_component(
        hass,
        "input_select",
        {"input_select": {"charger_phases": {"options": ["1", "3"], "initial": "3"}}},
    )
    assert await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {
                    "sensor": [
                        {
                            "name": "charger_power",
                            "unit_of_measurement": "W",
                            "device_class": "power",
                            "state": POWER_TEMPLATE,
                        },
                        {
                            "name": "charger2_power",
                            "unit_of_measurement": "W",
                            "device_class": "power",
                            "state": POWER2_TEMPLATE,
                        },
                    ]
                }
            ]
        },
    )
    hass.states.async_set(GRID, "0", {"unit_of_measurement": "W", "device_class": "power"})
    await hass.async_block_till_done()


type EntryFactory = Callable[..., Awaitable[MockConfigEntry]]


@pytest.fixture
def setup_loadpoint(hass: HomeAssistant, charger: None) -> EntryFactory:
    """Add and set up a loadpoint entry with the helper charger."""

    async def factory(data: dict[str, Any] | None = None, **options: Any) -> MockConfigEntry:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="Garage",
            data={**ENTRY_DATA, **(data or {})},
            options={**default_options(), **options},
            unique_id=f"{KIND}_{ENABLE}",
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        return entry

    return factory
