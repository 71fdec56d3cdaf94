"""Closed loop: helper entities are the charger, a simulated meter closes the loop.

The charger is input_boolean (enable) + input_number (current) + input_select (phases);
a template sensor reports its power from them. Each simulated cycle writes the grid meter
(house load + charger - PV) and moves HA's clock 30 s forward.
"""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
import pytest

from custom_components.hems.const import DOMAIN
from custom_components.hems.loadpoint.const import (
    CONF_GRID_SIGN,
    GRID_EXPORT_POSITIVE,
    ISSUE_NOT_FOLLOWING,
)

from .conftest import CURRENT, ENABLE, PHASES, PLUGGED, VEHICLE_SOC, EntryFactory
from .sim import Site

STATUS = "sensor.garage_status"
REASON = "sensor.garage_reason"
ENERGY = "sensor.garage_session_energy"
SOLAR = "sensor.garage_session_solar_share"


def state(hass: HomeAssistant, entity_id: str) -> str:
    value = hass.states.get(entity_id)
    assert value is not None, entity_id
    return value.state


@pytest.fixture
def site(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> Site:
    return Site(hass, freezer)


async def test_surplus_starts_follows_and_clouds_stop(
    hass: HomeAssistant, setup_loadpoint: EntryFactory, site: Site
) -> None:
    """Sustained surplus starts the car, the current follows, clouds stop it."""
    await setup_loadpoint()
    assert state(hass, STATUS) == "unknown"  # before the first cycle
    site.pv_w = 6000.0
    await site.run(30)
    assert state(hass, ENABLE) == "off"
    assert state(hass, STATUS) == "waiting_enable"
    assert state(hass, REASON) == "enable_delay"
    assert hass.states.get(REASON).attributes["remaining_s"] > 0

    await site.run(120)
    assert state(hass, ENABLE) == "on"
    assert state(hass, STATUS) == "charging"
    assert state(hass, REASON) == "surplus"
    assert state(hass, PHASES) == "3"
    first = float(state(hass, CURRENT))
    assert 6 <= first <= 8
    assert site.grid_w() <= 0  # never imports to feed the car
    assert float(state(hass, "sensor.garage_charge_power_command")) == pytest.approx(
        first * 230 * 3
    )
    assert float(state(hass, "sensor.garage_surplus_power")) > 4000

    # More sun: the current follows the surplus up.
    site.pv_w = 9500.0
    await site.run(120)
    assert float(state(hass, CURRENT)) > first + 3
    assert -700 <= site.grid_w() <= 0

    energy = float(state(hass, ENERGY))
    assert energy > 0.1
    assert float(state(hass, SOLAR)) == pytest.approx(100.0)

    # Clouds: after the minimum on-time and the delays the car stops.
    site.pv_w = 800.0
    await site.run(60)
    assert state(hass, ENABLE) == "on"
    await site.run(1200)
    assert "waiting_disable" in site.statuses
    assert "phase_switching" in site.statuses  # down to 1 phase before stopping
    assert state(hass, ENABLE) == "off"
    assert state(hass, STATUS) == "idle"
    assert state(hass, REASON) == "no_surplus"
    assert {"min_on_time", "disable_delay"} & set(site.reasons)
    final = float(state(hass, ENERGY))
    assert final > energy  # grows while charging ...
    await site.run(120)
    assert float(state(hass, ENERGY)) == final  # ... and stays when stopped
    assert float(state(hass, SOLAR)) < 100.0  # the cloudy minutes came from the grid


async def test_kw_meter_with_export_positive(
    hass: HomeAssistant, setup_loadpoint: EntryFactory, site: Site
) -> None:
    """A kW meter that shows export as positive is normalised."""
    await setup_loadpoint({CONF_GRID_SIGN: GRID_EXPORT_POSITIVE})
    site.unit = "kW"
    site.export_positive = True
    site.pv_w = 3000.0  # 2.5 kW surplus: 1 phase
    await site.run(180)
    assert state(hass, ENABLE) == "on"
    assert state(hass, PHASES) == "1"
    assert float(state(hass, CURRENT)) == 10.0  # 2500 W / 230 V, floored
    assert float(state(hass, "sensor.garage_phases")) == 1


async def test_stale_meter_is_a_safe_state(
    hass: HomeAssistant, setup_loadpoint: EntryFactory, site: Site
) -> None:
    """A meter that goes unavailable stops surplus charging."""
    await setup_loadpoint()
    site.pv_w = 6000.0
    await site.run(180)
    assert state(hass, ENABLE) == "on"
    site.meter_online = False
    await site.run(60)
    assert state(hass, REASON) == "stale_data"
    assert state(hass, ENABLE) == "off"


async def test_modes_from_the_select_and_the_action(
    hass: HomeAssistant, setup_loadpoint: EntryFactory, site: Site
) -> None:
    """Mode now charges at full power without sun; off stops."""
    entry = await setup_loadpoint()
    await hass.services.async_call(
        "select", "select_option", {"entity_id": "select.garage_mode", "option": "now"}, True
    )
    assert state(hass, "select.garage_mode") == "now"
    await site.run(30)
    assert state(hass, ENABLE) == "on"
    assert float(state(hass, CURRENT)) == 16.0
    assert state(hass, REASON) == "mode_now"
    await hass.services.async_call(
        DOMAIN, "set_loadpoint_mode", {"config_entry_id": entry.entry_id, "mode": "off"}, True
    )
    assert state(hass, "select.garage_mode") == "off"
    await site.run(30)
    assert state(hass, ENABLE) == "off"
    assert state(hass, REASON) == "mode_off"
    await hass.services.async_call(
        DOMAIN, "set_loadpoint_mode", {"entity_id": "sensor.garage_status", "mode": "minpv"}, True
    )
    await site.run(30)
    assert state(hass, ENABLE) == "on"
    assert float(state(hass, CURRENT)) == 6.0
    assert state(hass, REASON) == "min_current"


async def test_min_and_limit_soc(
    hass: HomeAssistant, setup_loadpoint: EntryFactory, site: Site
) -> None:
    """Below min SoC the car charges at full power; at the limit it stops."""
    await setup_loadpoint()
    await hass.services.async_call(
        "number", "set_value", {"entity_id": "number.garage_minimum_soc", "value": 50}, True
    )
    await site.run(30)
    assert state(hass, REASON) == "below_min_soc"
    assert state(hass, ENABLE) == "on"
    await hass.services.async_call(
        "number", "set_value", {"entity_id": "number.garage_limit_soc", "value": 40}, True
    )
    await site.run(30)
    assert state(hass, REASON) == "limit_soc_reached"
    assert state(hass, STATUS) == "complete"
    assert state(hass, ENABLE) == "off"
    assert state(hass, "number.garage_limit_soc") == "40.0"


async def test_departure_plan(
    hass: HomeAssistant,
    setup_loadpoint: EntryFactory,
    site: Site,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A plan far away waits; close to departure it charges from the grid."""
    await setup_loadpoint()
    await hass.services.async_call(
        "input_number", "set_value", {"entity_id": VEHICLE_SOC, "value": 60}, True
    )
    freezer.move_to("2027-06-01 02:00:00+00:00")
    departure = "18:00:00"  # local time of the test zone (US/Pacific): 01:00 UTC next day
    await hass.services.async_call(
        DOMAIN,
        "set_departure_plan",
        {"entity_id": ["select.garage_mode"], "departure": departure, "target_soc": 80},
        True,
    )
    assert state(hass, "time.garage_departure_time") == departure
    assert state(hass, "number.garage_departure_target_soc") == "80.0"
    await site.run(30)
    assert state(hass, REASON) == "plan_waiting"
    assert state(hass, ENABLE) == "off"
    freezer.move_to("2027-06-02 00:00:00+00:00")  # one hour before departure
    await site.run(30)
    assert state(hass, REASON) == "plan_active"
    assert state(hass, ENABLE) == "on"
    # Target 0 clears the plan.
    await hass.services.async_call(
        "number", "set_value", {"entity_id": "number.garage_departure_target_soc", "value": 0}, True
    )
    await site.run(30)
    assert state(hass, REASON) != "plan_active"


async def test_unplug_and_new_session(
    hass: HomeAssistant, setup_loadpoint: EntryFactory, site: Site
) -> None:
    """Unplugging shows disconnected; plugging in starts a new session from 0 kWh."""
    await setup_loadpoint(default_mode="now")
    await site.run(120)
    assert float(state(hass, ENERGY)) > 0
    await hass.services.async_call("input_boolean", "turn_off", {"entity_id": PLUGGED}, True)
    await site.run(30)
    assert state(hass, STATUS) == "disconnected"
    assert state(hass, ENABLE) == "off"
    before = float(state(hass, ENERGY))
    assert before > 0
    await hass.services.async_call("input_boolean", "turn_on", {"entity_id": PLUGGED}, True)
    await site.run(30)
    assert float(state(hass, ENERGY)) < before


async def test_charger_that_ignores_commands_raises_a_repair_issue(
    hass: HomeAssistant, setup_loadpoint: EntryFactory, site: Site
) -> None:
    """A charger that does not follow raises a repair issue; following again clears it."""
    entry = await setup_loadpoint(default_mode="now")
    issue_id = f"{ISSUE_NOT_FOLLOWING}_{entry.entry_id}"
    broken = True
    writes: list[str] = []

    @callback
    def revert(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if new is not None and new.state == "on":
            writes.append(new.state)
            if broken:
                hass.async_create_task(
                    hass.services.async_call("input_boolean", "turn_off", {"entity_id": ENABLE})
                )

    unsub = async_track_state_change_event(hass, [ENABLE], revert)
    registry = ir.async_get(hass)
    await site.run(30)
    assert registry.async_get_issue(DOMAIN, issue_id) is None  # not yet: give it time
    await site.run(60)
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == ISSUE_NOT_FOLLOWING
    assert issue.translation_placeholders["entity_id"] == ENABLE
    assert hass.states.get(STATUS).attributes["charger_not_following"] == ENABLE
    await site.run(300)
    assert 2 <= len(writes) <= 7  # retried, but rate-limited: once per timeout at most
    broken = False
    await site.run(120)
    assert state(hass, ENABLE) == "on"
    assert registry.async_get_issue(DOMAIN, issue_id) is None
    unsub()


async def test_unload_stops_the_loop_and_clears_the_issue(
    hass: HomeAssistant, setup_loadpoint: EntryFactory, site: Site
) -> None:
    """After unloading nothing writes to the charger any more."""
    entry = await setup_loadpoint(default_mode="now")
    await hass.services.async_call("input_number", "set_value", {"entity_id": CURRENT, "value": 0})
    assert await hass.config_entries.async_unload(entry.entry_id)
    await site.run(60)
    assert state(hass, ENABLE) == "off"
    issue_id = f"{ISSUE_NOT_FOLLOWING}_{entry.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
