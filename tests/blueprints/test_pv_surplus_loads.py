"""The PV-surplus load switching blueprint, run as a real automation."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest

from .conftest import MoveTime, SetupBlueprint, at

GRID = "sensor.grid_power"
HEATER = "input_boolean.heater"
PUMP = "input_boolean.pump"
PLUG = "input_boolean.plug"


@pytest.fixture
async def loads(blueprint_hass: HomeAssistant, move_time: MoveTime) -> None:
    await move_time(at(11))
    assert await async_setup_component(
        blueprint_hass,
        "input_boolean",
        {"input_boolean": {"heater": {}, "pump": {}, "plug": {}}},
    )
    await grid(blueprint_hass, 300)


async def grid(hass: HomeAssistant, watts: float | str) -> None:
    """Grid meter reading: positive = import, negative = export."""
    hass.states.async_set(GRID, str(watts), {"unit_of_measurement": "W", "device_class": "power"})
    await hass.async_block_till_done()


async def switch(hass: HomeAssistant, entity_id: str, on: bool) -> None:
    await hass.services.async_call(
        "input_boolean", "turn_on" if on else "turn_off", {"entity_id": entity_id}, blocking=True
    )
    await hass.async_block_till_done()


def state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    assert current is not None
    return current.state


def inputs(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "grid_power": GRID,
        "load_1": HEATER,
        "load_1_power": 2000,
        "on_delay": {"minutes": 5},
        "off_delay": {"minutes": 1},
        "min_on_time": {"minutes": 10},
        "import_threshold": 50,
    }
    base.update(overrides)
    return base


@pytest.mark.usefixtures("loads")
async def test_starts_after_surplus_held_for_the_delay(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    hass = blueprint_hass
    await setup_blueprint("pv_surplus_loads.yaml", inputs())

    await grid(hass, -2500)
    await move_time(minutes=4, seconds=59)
    assert state(hass, HEATER) == "off"
    await move_time(seconds=1)
    assert state(hass, HEATER) == "on"


@pytest.mark.usefixtures("loads")
async def test_a_dip_restarts_the_delay(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    hass = blueprint_hass
    await setup_blueprint("pv_surplus_loads.yaml", inputs())

    await grid(hass, -2500)
    await move_time(minutes=4)
    await grid(hass, -1900)  # below the heater's 2000 W for a moment
    await grid(hass, -2600)
    await move_time(minutes=4)
    assert state(hass, HEATER) == "off", "the delay started again at the dip"
    await move_time(minutes=1)
    assert state(hass, HEATER) == "on"


@pytest.mark.usefixtures("loads")
async def test_import_stops_after_min_on_time_and_stop_delay(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    hass = blueprint_hass
    await setup_blueprint("pv_surplus_loads.yaml", inputs())
    await grid(hass, -2500)
    await move_time(minutes=5)
    assert state(hass, HEATER) == "on"

    # A cloud: the site imports right after the start; minimum on-time protects.
    await grid(hass, 1200)
    await move_time(minutes=5)
    assert state(hass, HEATER) == "on"
    await move_time(minutes=4)
    await grid(hass, 1250)
    assert state(hass, HEATER) == "on", "9 minutes on, minimum is 10"
    # 10 minutes on: import now counts, and must hold for the 1-minute stop delay.
    await move_time(minutes=1)
    assert state(hass, HEATER) == "on"
    await move_time(seconds=59)
    assert state(hass, HEATER) == "on"
    await move_time(seconds=1)
    assert state(hass, HEATER) == "off"


@pytest.mark.usefixtures("loads")
async def test_small_import_within_tolerance_keeps_running(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    hass = blueprint_hass
    await setup_blueprint("pv_surplus_loads.yaml", inputs())
    await grid(hass, -2500)
    await move_time(minutes=5)
    await grid(hass, 40)
    await move_time(minutes=30)
    assert state(hass, HEATER) == "on"


@pytest.mark.usefixtures("loads")
async def test_priorities_start_in_order(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    """Heater (2000 W) first; pump (500 W) only gets what the heater leaves."""
    hass = blueprint_hass
    await setup_blueprint(
        "pv_surplus_loads.yaml",
        inputs(load_2=PUMP, load_2_power=500, load_3=PLUG, load_3_power=300),
    )
    await grid(hass, -2700)
    await move_time(minutes=5)
    assert state(hass, HEATER) == "on"
    assert state(hass, PUMP) == "off", "the pump waits while the heater could use the surplus"
    assert state(hass, PLUG) == "off"

    # The heater draws its 2000 W: 700 W left, enough for the pump (and the plug).
    await grid(hass, -700)
    await move_time(minutes=5)
    assert state(hass, PUMP) == "on"
    assert state(hass, PLUG) == "off", "the plug waits for the pump"

    await grid(hass, -200)  # not enough for the plug's 300 W
    await move_time(minutes=10)
    assert state(hass, PLUG) == "off"


@pytest.mark.usefixtures("loads")
async def test_lower_priority_uses_surplus_too_small_for_higher(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    hass = blueprint_hass
    await setup_blueprint("pv_surplus_loads.yaml", inputs(load_2=PUMP, load_2_power=500))
    await grid(hass, -1000)
    await move_time(minutes=5)
    assert state(hass, HEATER) == "off"
    assert state(hass, PUMP) == "on"


@pytest.mark.usefixtures("loads")
async def test_shedding_lowest_priority_first(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    hass = blueprint_hass
    await setup_blueprint("pv_surplus_loads.yaml", inputs(load_2=PUMP, load_2_power=500))
    await switch(hass, HEATER, True)
    await switch(hass, PUMP, True)
    await grid(hass, -100)
    await move_time(minutes=20)
    assert state(hass, HEATER) == "on"
    assert state(hass, PUMP) == "on"

    await grid(hass, 1500)
    await move_time(minutes=1)
    assert state(hass, PUMP) == "off", "lowest priority goes first"
    assert state(hass, HEATER) == "on"
    await grid(hass, 1000)  # still importing without the pump
    await move_time(seconds=59)
    assert state(hass, HEATER) == "on", "the next one waits for the stop delay"
    await move_time(seconds=1)
    assert state(hass, HEATER) == "off"


@pytest.mark.usefixtures("loads")
async def test_shedding_stops_when_import_ends(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    hass = blueprint_hass
    await setup_blueprint("pv_surplus_loads.yaml", inputs(load_2=PUMP, load_2_power=500))
    await switch(hass, HEATER, True)
    await switch(hass, PUMP, True)
    await move_time(minutes=20)
    await grid(hass, 400)
    await move_time(minutes=1)
    assert state(hass, PUMP) == "off"
    await grid(hass, -100)  # the pump was the culprit
    await move_time(minutes=10)
    assert state(hass, HEATER) == "on"


@pytest.mark.usefixtures("loads")
async def test_positive_export_sign(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    hass = blueprint_hass
    await setup_blueprint("pv_surplus_loads.yaml", inputs(grid_sign="positive_export"))
    await grid(hass, 2500)  # exporting 2.5 kW in this meter's convention
    await move_time(minutes=5)
    assert state(hass, HEATER) == "on"
    await move_time(minutes=10)
    await grid(hass, -300)  # importing
    await move_time(minutes=1)
    assert state(hass, HEATER) == "off"


@pytest.mark.usefixtures("loads")
async def test_lost_grid_reading_counts_as_import(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    hass = blueprint_hass
    await setup_blueprint("pv_surplus_loads.yaml", inputs())
    await grid(hass, -2500)
    await move_time(minutes=5)
    assert state(hass, HEATER) == "on"
    await move_time(minutes=10)
    await grid(hass, "unavailable")
    await move_time(minutes=1)
    assert state(hass, HEATER) == "off"
    await move_time(minutes=30)
    assert state(hass, HEATER) == "off", "no reading, no start"
