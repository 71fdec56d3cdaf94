"""The threshold rule blueprint, run as a real automation."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest

from .conftest import MoveTime, SetupBlueprint, at

SENSOR = "sensor.greenhouse_temperature"
PUMP = "input_boolean.pump"
ALLOW = "input_boolean.allow"


@pytest.fixture
async def actuators(blueprint_hass: HomeAssistant) -> None:
    """A pump and an 'allowed' flag: real input_booleans the rule switches."""
    assert await async_setup_component(
        blueprint_hass, "input_boolean", {"input_boolean": {"pump": {}, "allow": {}}}
    )
    blueprint_hass.states.async_set(SENSOR, "20.0", {"unit_of_measurement": "°C"})
    await blueprint_hass.async_block_till_done()


def inputs(**overrides: Any) -> dict[str, Any]:
    """The issue's example rule: above 25 °C, 10 min max, 5 min cooldown, 8..20 h."""
    base: dict[str, Any] = {
        "sensor": SENSOR,
        "direction": "above",
        "threshold": 25,
        "hysteresis": 1,
        "actuator": PUMP,
        "max_runtime": {"hours": 0, "minutes": 10, "seconds": 0},
        "cooldown": {"hours": 0, "minutes": 5, "seconds": 0},
        "window_start": "08:00:00",
        "window_end": "20:00:00",
    }
    base.update(overrides)
    return base


async def set_value(hass: HomeAssistant, value: str) -> None:
    hass.states.async_set(SENSOR, value, {"unit_of_measurement": "°C"})
    await hass.async_block_till_done()


def pump(hass: HomeAssistant) -> str:
    state = hass.states.get(PUMP)
    assert state is not None
    return state.state


@pytest.mark.usefixtures("actuators")
async def test_on_above_threshold_off_after_hysteresis(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    """Above 25 -> on; 24.5 (inside the hysteresis) stays on; 23.9 -> off."""
    hass = blueprint_hass
    await move_time(at(10))
    await setup_blueprint("threshold_rule.yaml", inputs())

    await set_value(hass, "25.0")
    assert pump(hass) == "off", "exactly at the threshold is not above it"
    await set_value(hass, "25.5")
    assert pump(hass) == "on"
    await set_value(hass, "24.5")
    assert pump(hass) == "on", "inside the hysteresis band the pump keeps running"
    await set_value(hass, "23.9")
    assert pump(hass) == "off"


@pytest.mark.usefixtures("actuators")
async def test_max_runtime_then_cooldown_then_runs_again(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    """Still hot: off after 10 min, stays off for the 5 min cooldown, then on again."""
    hass = blueprint_hass
    await move_time(at(10))
    await setup_blueprint("threshold_rule.yaml", inputs())

    await set_value(hass, "30")
    assert pump(hass) == "on"
    await move_time(minutes=9, seconds=59)
    assert pump(hass) == "on"
    await move_time(seconds=1)
    assert pump(hass) == "off", "maximum runtime of 10 minutes"

    # Sensor updates during the cooldown do not restart the pump.
    await move_time(minutes=2)
    await set_value(hass, "31")
    assert pump(hass) == "off"
    await move_time(minutes=2, seconds=59)
    await set_value(hass, "30.5")
    assert pump(hass) == "off", "cooldown of 5 minutes not over yet"

    # The cooldown ends without any sensor change: the rule re-checks by itself.
    await move_time(seconds=1)
    assert pump(hass) == "on"


@pytest.mark.usefixtures("actuators")
async def test_max_runtime_applies_to_manual_start(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    hass = blueprint_hass
    await move_time(at(12))
    await setup_blueprint("threshold_rule.yaml", inputs())
    await hass.services.async_call("input_boolean", "turn_on", {"entity_id": PUMP}, blocking=True)
    await hass.async_block_till_done()
    await move_time(minutes=10)
    assert pump(hass) == "off"


@pytest.mark.usefixtures("actuators")
async def test_zero_max_runtime_means_no_limit(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    hass = blueprint_hass
    await move_time(at(12))
    await setup_blueprint(
        "threshold_rule.yaml", inputs(max_runtime={"hours": 0, "minutes": 0, "seconds": 0})
    )
    await set_value(hass, "30")
    assert pump(hass) == "on"
    await move_time(minutes=90)
    assert pump(hass) == "on"


@pytest.mark.usefixtures("actuators")
async def test_time_window(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    """Hot at 07:50: waits for 08:00, runs, and stops at 20:00."""
    hass = blueprint_hass
    await move_time(at(7, 50))
    await setup_blueprint("threshold_rule.yaml", inputs(max_runtime={"hours": 24}))

    await set_value(hass, "30")
    assert pump(hass) == "off", "outside the window"
    await move_time(at(7, 59, 59))
    assert pump(hass) == "off"
    await move_time(at(8, 0, 0))
    assert pump(hass) == "on", "the window opening starts the rule"

    await move_time(at(19, 59, 0))
    await set_value(hass, "29")
    assert pump(hass) == "on"
    await move_time(at(20, 0, 0))
    assert pump(hass) == "off", "the window closing stops the pump"
    await set_value(hass, "31")
    assert pump(hass) == "off"


@pytest.mark.usefixtures("actuators")
async def test_window_end_keeps_running_when_asked(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    hass = blueprint_hass
    await move_time(at(19, 50))
    await setup_blueprint(
        "threshold_rule.yaml", inputs(max_runtime={"hours": 24}, stop_outside_window=False)
    )
    await set_value(hass, "30")
    assert pump(hass) == "on"
    await move_time(at(20, 0, 0))
    assert pump(hass) == "on"
    await set_value(hass, "23")
    assert pump(hass) == "off"


@pytest.mark.usefixtures("actuators")
async def test_window_over_midnight(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    hass = blueprint_hass
    await move_time(at(12))
    await setup_blueprint(
        "threshold_rule.yaml",
        inputs(window_start="22:00:00", window_end="06:00:00", max_runtime={"hours": 24}),
    )
    await set_value(hass, "30")
    assert pump(hass) == "off"
    await move_time(at(23, 30))
    await set_value(hass, "30.5")
    assert pump(hass) == "on"


@pytest.mark.usefixtures("actuators")
async def test_extra_conditions_are_anded(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    hass = blueprint_hass
    await move_time(at(12))
    await setup_blueprint(
        "threshold_rule.yaml",
        inputs(
            extra_conditions=[
                {"condition": "state", "entity_id": ALLOW, "state": "on"},
                {"condition": "numeric_state", "entity_id": "sensor.cistern", "above": 10},
            ]
        ),
    )
    hass.states.async_set("sensor.cistern", "50")
    await set_value(hass, "30")
    assert pump(hass) == "off", "'allow' is off"

    await hass.services.async_call("input_boolean", "turn_on", {"entity_id": ALLOW}, blocking=True)
    await set_value(hass, "30.2")
    assert pump(hass) == "on"

    hass.states.async_set("sensor.cistern", "5")
    await set_value(hass, "30.4")
    assert pump(hass) == "off", "one extra condition failing stops the pump"


@pytest.mark.usefixtures("actuators")
async def test_below_direction(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    """Frost protection heater: on below 2, off above 2 + 1.5."""
    hass = blueprint_hass
    await move_time(at(3))
    await setup_blueprint(
        "threshold_rule.yaml",
        inputs(
            direction="below",
            threshold=2,
            hysteresis=1.5,
            window_start="00:00:00",
            window_end="00:00:00",
            max_runtime={"hours": 0},
            cooldown={"minutes": 0},
        ),
    )
    await set_value(hass, "1.9")
    assert pump(hass) == "on"
    await set_value(hass, "3.4")
    assert pump(hass) == "on"
    await set_value(hass, "3.6")
    assert pump(hass) == "off"


@pytest.mark.usefixtures("actuators")
async def test_sensor_lost_switches_off(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    hass = blueprint_hass
    await move_time(at(12))
    await setup_blueprint("threshold_rule.yaml", inputs())
    await set_value(hass, "30")
    assert pump(hass) == "on"
    await set_value(hass, "unavailable")
    assert pump(hass) == "off"
    await move_time(minutes=6)
    assert pump(hass) == "off", "no value, no run"
