"""The demand-response load shedding blueprint, run as a real automation."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from .conftest import SetupBlueprint

EVENT = "binary_sensor.dr_event"
BOILER = "input_boolean.boiler"
DRYER = "input_boolean.dryer"
WALLBOX = "input_number.wallbox_current"
LIVING = "climate.living_room"
OFFICE = "climate.office"
LAMP = "light.hall"


@pytest.fixture
async def site(blueprint_hass: HomeAssistant) -> None:
    hass = blueprint_hass
    assert await async_setup_component(hass, "scene", {})
    assert await async_setup_component(
        hass,
        "input_boolean",
        {"input_boolean": {"boiler": {"initial": True}, "dryer": {"initial": False}}},
    )
    assert await async_setup_component(
        hass,
        "input_number",
        {"input_number": {"wallbox_current": {"min": 6, "max": 32, "step": 1, "initial": 16}}},
    )
    hass.states.async_set(EVENT, "off")
    hass.states.async_set(LIVING, "heat", {"temperature": 21.0, "hvac_modes": ["heat", "off"]})
    hass.states.async_set(OFFICE, "cool", {"temperature": 24.0, "hvac_modes": ["cool", "off"]})
    hass.states.async_set(LAMP, "on", {"brightness": 255, "color_mode": "brightness"})
    await hass.async_block_till_done()


def inputs(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_entity": EVENT,
        "off_entities": [BOILER, DRYER],
        "climate_entities": [LIVING, OFFICE],
        "climate_setback": 2,
        "number_entities": [WALLBOX],
        "number_value": 6,
        "light_entities": [LAMP],
        "light_brightness": 30,
    }
    base.update(overrides)
    return base


def state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    assert current is not None
    return current.state


def temperatures(calls: list[ServiceCall]) -> dict[str, float]:
    found: dict[str, float] = {}
    for call in calls:
        entity_ids = call.data["entity_id"]
        for entity_id in [entity_ids] if isinstance(entity_ids, str) else entity_ids:
            found[entity_id] = call.data["temperature"]
    return found


@pytest.mark.usefixtures("site")
async def test_event_sheds_and_restores(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint
) -> None:
    hass = blueprint_hass
    set_temperature = async_mock_service(hass, "climate", "set_temperature")
    async_mock_service(hass, "climate", "set_hvac_mode")
    light_on = async_mock_service(hass, "light", "turn_on")
    await setup_blueprint("demand_response.yaml", inputs())

    hass.states.async_set(EVENT, "on")
    await hass.async_block_till_done()

    assert state(hass, BOILER) == "off"
    assert state(hass, DRYER) == "off"
    assert float(state(hass, WALLBOX)) == 6
    assert temperatures(set_temperature) == {LIVING: 19.0, OFFICE: 26.0}
    assert len(light_on) == 1
    assert light_on[0].data["brightness_pct"] == 30
    assert hass.states.get("scene.hems_dr_under_test") is not None

    # Meanwhile the devices report their lowered values.
    hass.states.async_set(LIVING, "heat", {"temperature": 19.0, "hvac_modes": ["heat", "off"]})
    hass.states.async_set(OFFICE, "cool", {"temperature": 26.0, "hvac_modes": ["cool", "off"]})
    hass.states.async_set(LAMP, "on", {"brightness": 77, "color_mode": "brightness"})
    set_temperature.clear()
    light_on.clear()

    hass.states.async_set(EVENT, "off")
    await hass.async_block_till_done()

    assert state(hass, BOILER) == "on", "restored"
    assert state(hass, DRYER) == "off", "was off before, stays off"
    assert float(state(hass, WALLBOX)) == 16
    assert temperatures(set_temperature) == {LIVING: 21.0, OFFICE: 24.0}
    assert [call.data.get("brightness") for call in light_on] == [255]
    assert hass.states.get("scene.hems_dr_under_test") is None, "snapshot removed"


@pytest.mark.usefixtures("site")
async def test_only_switching_off(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint
) -> None:
    hass = blueprint_hass
    set_temperature = async_mock_service(hass, "climate", "set_temperature")
    await setup_blueprint(
        "demand_response.yaml",
        {"event_entity": EVENT, "off_entities": [BOILER]},
    )
    hass.states.async_set(EVENT, "on")
    await hass.async_block_till_done()
    assert state(hass, BOILER) == "off"
    assert float(state(hass, WALLBOX)) == 16, "not chosen, not touched"
    hass.states.async_set(EVENT, "off")
    await hass.async_block_till_done()
    assert state(hass, BOILER) == "on"
    assert set_temperature == []


@pytest.mark.usefixtures("site")
async def test_custom_active_state(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint
) -> None:
    hass = blueprint_hass
    await setup_blueprint(
        "demand_response.yaml",
        {"event_entity": "sensor.tariff", "active_state": "peak", "off_entities": [BOILER]},
    )
    hass.states.async_set("sensor.tariff", "normal")
    await hass.async_block_till_done()
    assert state(hass, BOILER) == "on"
    hass.states.async_set("sensor.tariff", "peak")
    await hass.async_block_till_done()
    assert state(hass, BOILER) == "off"
    hass.states.async_set("sensor.tariff", "normal")
    await hass.async_block_till_done()
    assert state(hass, BOILER) == "on"


@pytest.mark.usefixtures("site")
async def test_end_without_snapshot_does_nothing(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint
) -> None:
    """An event already running before the automation existed: nothing to restore."""
    hass = blueprint_hass
    hass.states.async_set(EVENT, "on")
    await hass.async_block_till_done()
    await setup_blueprint("demand_response.yaml", {"event_entity": EVENT, "off_entities": [BOILER]})
    await hass.services.async_call(
        "input_boolean", "turn_off", {"entity_id": BOILER}, blocking=True
    )
    hass.states.async_set(EVENT, "off")
    await hass.async_block_till_done()
    assert state(hass, BOILER) == "off"
