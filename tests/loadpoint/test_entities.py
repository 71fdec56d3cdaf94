"""Entities, actions, restore after restart and diagnostics of the loadpoint."""

from __future__ import annotations

from datetime import time, timedelta
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, mock_restore_cache

from custom_components.hems.const import DOMAIN
from custom_components.hems.diagnostics import async_get_config_entry_diagnostics
from custom_components.hems.loadpoint.const import (
    BATTERY_CHARGE_POSITIVE,
    CONF_BATTERY_POWER,
    CONF_BATTERY_SIGN,
    CONF_BATTERY_SOC,
    CONF_CHARGER_CHARGING,
    CONF_CHARGER_CONNECTED,
    CONF_CHARGER_ENABLE,
    CONF_CHARGER_PHASES,
    CONF_PV_POWER,
    HISTORY_LENGTH,
)
from custom_components.hems.loadpoint.controller import ChargeMode
from custom_components.hems.loadpoint.coordinator import phases_of, power_w

from .conftest import ENABLE, PLUGGED, EntryFactory
from .sim import Site


@pytest.fixture
def site(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> Site:
    return Site(hass, freezer)


def test_units_and_phase_options() -> None:
    """W/kW/MW are normalised; other units and non-numbers are refused."""
    assert power_w(State("sensor.p", "1.5", {"unit_of_measurement": "kW"})) == 1500.0
    assert power_w(State("sensor.p", "0.002", {"unit_of_measurement": "MW"})) == 2000.0
    assert power_w(State("sensor.p", "12")) == 12.0
    assert power_w(State("sensor.p", "12", {"unit_of_measurement": "kWh"})) is None
    assert power_w(State("sensor.p", "nan")) is None
    assert power_w(State("sensor.p", "unavailable")) is None
    assert power_w(State("sensor.p", "x")) is None
    assert power_w(None) is None
    assert phases_of("3p") == 3
    assert phases_of("1-phase") == 1
    assert phases_of("2") is None
    assert phases_of("auto") is None


async def test_restored_after_restart(hass: HomeAssistant, setup_loadpoint: EntryFactory) -> None:
    """Mode, SoC settings and the departure plan survive a restart."""
    mock_restore_cache(
        hass,
        [
            State("select.garage_mode", "minpv"),
            State("number.garage_minimum_soc", "30.0"),
            State("number.garage_limit_soc", "90.0"),
            State("number.garage_departure_target_soc", "80.0"),
            State("time.garage_departure_time", "07:30:00"),
        ],
    )
    entry = await setup_loadpoint()
    coordinator = entry.runtime_data
    assert coordinator.controller.mode is ChargeMode.MINPV
    assert coordinator.controller.settings.min_soc == 30.0
    assert coordinator.controller.settings.limit_soc == 90.0
    assert coordinator.target_soc == 80.0
    assert coordinator.departure == time(7, 30)
    assert hass.states.get("select.garage_mode").state == "minpv"
    assert hass.states.get("number.garage_limit_soc").state == "90.0"


async def test_bad_restored_values_are_ignored(
    hass: HomeAssistant, setup_loadpoint: EntryFactory
) -> None:
    """Garbage in the restore cache leaves the defaults."""
    mock_restore_cache(
        hass,
        [
            State("select.garage_mode", "turbo"),
            State("number.garage_minimum_soc", "unknown"),
            State("number.garage_limit_soc", "250"),
            State("time.garage_departure_time", "unknown"),
        ],
    )
    entry = await setup_loadpoint()
    coordinator = entry.runtime_data
    assert coordinator.controller.mode is ChargeMode.PV
    assert coordinator.controller.settings.min_soc is None
    assert coordinator.controller.settings.limit_soc is None
    assert coordinator.departure is None
    assert hass.states.get("number.garage_limit_soc").state == "100.0"
    assert hass.states.get("time.garage_departure_time").state == "unknown"


async def test_time_entity_sets_the_departure(
    hass: HomeAssistant, setup_loadpoint: EntryFactory
) -> None:
    """The time entity is the plan's departure."""
    entry = await setup_loadpoint()
    await hass.services.async_call(
        "time", "set_value", {"entity_id": "time.garage_departure_time", "time": "06:45"}, True
    )
    assert entry.runtime_data.departure == time(6, 45)
    assert hass.states.get("time.garage_departure_time").state == "06:45:00"


async def test_action_targets(hass: HomeAssistant, setup_loadpoint: EntryFactory) -> None:
    """Bad targets raise translated errors."""
    entry = await setup_loadpoint()
    cases = [
        ({}, "loadpoint_no_target"),
        ({"entity_id": "sensor.nowhere"}, "loadpoint_not_a_loadpoint"),
        ({"config_entry_id": "nope"}, "loadpoint_not_a_loadpoint"),
    ]
    other = MockConfigEntry(domain="input_boolean")
    other.add_to_hass(hass)
    er.async_get(hass).async_get_or_create(
        "sensor", "demo", "x", config_entry=other, suggested_object_id="foreign"
    )
    cases.append(({"entity_id": "sensor.foreign"}, "loadpoint_not_a_loadpoint"))
    for target, key in cases:
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN, "set_loadpoint_mode", {**target, "mode": "now"}, blocking=True
            )
        assert err.value.translation_key == key
        assert err.value.translation_domain == DOMAIN
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "set_departure_plan",
            {"config_entry_id": entry.entry_id, "target_soc": 80},
            blocking=True,
        )
    assert err.value.translation_key == "loadpoint_not_loaded"


async def test_diagnostics_keep_the_last_100_decisions(
    hass: HomeAssistant, setup_loadpoint: EntryFactory, site: Site
) -> None:
    """Diagnostics hold the last decisions with inputs and reasons, newest last."""
    entry = await setup_loadpoint()
    site.pv_w = 6000.0
    await site.run(30 * (HISTORY_LENGTH + 10))
    diag = await async_get_config_entry_diagnostics(hass, entry)
    decisions = diag["decisions"]
    assert len(decisions) == HISTORY_LENGTH
    last = decisions[-1]
    assert last["decision"]["enable"] is True
    assert last["decision"]["reason"]["code"] == "surplus"
    assert last["decision"]["reason"]["current_a"] == last["decision"]["current_a"]
    assert last["site"]["grid_power_w"] <= 0
    assert last["loadpoint"]["connected"] is True
    assert decisions[0]["time"] < last["time"]
    assert diag["entry"]["data"][CONF_CHARGER_ENABLE] == ENABLE
    assert diag["settings"]["loadpoint"]["max_current_a"] == 16.0
    assert diag["state"]["charger"][ENABLE]["desired"] == "on"
    assert diag["state"]["not_following"] is None


async def test_battery_switch_phases_and_charging_sensor(
    hass: HomeAssistant, setup_loadpoint: EntryFactory, site: Site
) -> None:
    """A charging home battery's power counts as surplus; a switch chooses 1p/3p."""
    hass.states.async_set("sensor.battery_power", "2000", {"unit_of_measurement": "W"})
    hass.states.async_set("sensor.battery_soc", "95")
    hass.states.async_set("sensor.pv_power", "3.0", {"unit_of_measurement": "kW"})
    hass.states.async_set("binary_sensor.charging", "on")
    entry = await setup_loadpoint(
        {
            CONF_BATTERY_POWER: "sensor.battery_power",
            CONF_BATTERY_SIGN: BATTERY_CHARGE_POSITIVE,
            CONF_BATTERY_SOC: "sensor.battery_soc",
            CONF_PV_POWER: "sensor.pv_power",
            CONF_CHARGER_PHASES: PLUGGED.replace("car_plugged", "three_phase"),
            CONF_CHARGER_CHARGING: "binary_sensor.charging",
        }
    )
    assert entry.runtime_data.controller.settings.phase_switching
    site.pv_w = 3000.0  # 2.5 kW export + 2 kW into the battery = 4.5 kW for the car
    await site.run(180)
    history = entry.runtime_data.history[-1]
    assert history["site"]["battery_power_w"] == -2000.0
    assert history["site"]["pv_power_w"] == 3000.0
    assert history["loadpoint"]["charging"] is True
    assert history["decision"]["enable"] is True
    assert history["decision"]["available_power_w"] >= 4400


async def test_unknown_unit_and_failing_writes_log_once(
    hass: HomeAssistant,
    setup_loadpoint: EntryFactory,
    site: Site,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A meter in kWh is ignored with one warning; a failing write warns once."""
    hass.states.async_set("switch.ghost", "off")
    await setup_loadpoint({CONF_CHARGER_ENABLE: "switch.ghost"}, default_mode="now")
    hass.states.async_set("sensor.pv_power", "5", {"unit_of_measurement": "kWh"})
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_PV_POWER: "sensor.pv_power"}
    )
    caplog.set_level(logging.WARNING)
    await site.run(300)
    assert caplog.text.count("expected W, kW or MW") == 1
    assert caplog.text.count("Writing on to switch.ghost failed") == 1
    assert caplog.text.count("did not follow") == 1
    assert entry.runtime_data.not_following == "switch.ghost"


async def test_connected_sensor_unavailable_means_disconnected(
    hass: HomeAssistant, setup_loadpoint: EntryFactory, site: Site
) -> None:
    """An unavailable plugged sensor is not a plugged car."""
    hass.states.async_set("binary_sensor.plug", "unavailable")
    await setup_loadpoint({CONF_CHARGER_CONNECTED: "binary_sensor.plug"}, default_mode="now")
    await site.run(30)
    assert hass.states.get("sensor.garage_status").state == "disconnected"


async def test_session_energy_survives_a_restart(
    hass: HomeAssistant, setup_loadpoint: EntryFactory, site: Site
) -> None:
    """Session energy and its solar part continue after a restart."""
    mock_restore_cache(
        hass,
        [
            State(
                "sensor.garage_session_energy",
                "3.5",
                {"solar_energy_kwh": 3.0, "session_started": "2026-11-23T08:00:00+00:00"},
            )
        ],
    )
    entry = await setup_loadpoint(default_mode="now")
    assert entry.runtime_data.session_energy_kwh == 3.5
    assert entry.runtime_data.session_solar_share == pytest.approx(85.7)
    await site.run(60)
    energy = hass.states.get("sensor.garage_session_energy")
    assert float(energy.state) > 3.5
    assert energy.attributes["session_started"] == "2026-11-23T08:00:00+00:00"
    assert energy.attributes["solar_energy_kwh"] == 3.0  # no sun: all from the grid


async def test_sun_hours_reach_the_controller(
    hass: HomeAssistant, setup_loadpoint: EntryFactory, site: Site
) -> None:
    """Hours to sunset come from sun.sun: 0 at night, None without it."""
    entry = await setup_loadpoint()
    await site.run(30)
    assert entry.runtime_data.history[-1]["site"]["sun_hours_left"] is None
    hass.states.async_set("sun.sun", "below_horizon")
    await site.run(30)
    assert entry.runtime_data.history[-1]["site"]["sun_hours_left"] == 0.0
    setting = dt_util.utcnow() + timedelta(hours=3, seconds=30)
    hass.states.async_set("sun.sun", "above_horizon", {"next_setting": setting.isoformat()})
    await site.run(30)
    assert entry.runtime_data.history[-1]["site"]["sun_hours_left"] == pytest.approx(3.0)
    hass.states.async_set("sun.sun", "above_horizon", {})
    await site.run(30)
    assert entry.runtime_data.history[-1]["site"]["sun_hours_left"] is None


async def test_missing_grid_meter_logs_once_and_recovers(
    hass: HomeAssistant,
    setup_loadpoint: EntryFactory,
    site: Site,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One warning while the meter is gone, one info line when it is back."""
    await setup_loadpoint()
    caplog.set_level(logging.INFO)
    site.meter_online = False
    await site.run(150)
    assert caplog.text.count("no grid power from sensor.grid_power") == 1
    site.meter_online = True
    await site.run(60)
    assert caplog.text.count("grid power is back") == 1
