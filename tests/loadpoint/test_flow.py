"""Config flow and options flow of the loadpoint."""

from __future__ import annotations

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hems.const import CONF_KIND, DOMAIN
from custom_components.hems.loadpoint.const import (
    CONF_BATTERY_SIGN,
    CONF_CHARGER_CURRENT,
    CONF_CHARGER_ENABLE,
    CONF_CHARGER_PHASES,
    CONF_CHARGER_POWER,
    CONF_GRID_POWER,
    CONF_GRID_SIGN,
    CONF_PV_POWER,
    DEFAULTS,
    GRID_EXPORT_POSITIVE,
    KIND,
    OPT_BUFFER_SOC,
    OPT_FUSE_LIMIT,
    OPT_MAX_CURRENT,
    OPT_MIN_CURRENT,
)

from .conftest import CHARGER_POWER, CURRENT, ENABLE, GRID, PHASES, EntryFactory

SITE = {"name": "Garage", CONF_GRID_POWER: GRID, CONF_GRID_SIGN: GRID_EXPORT_POSITIVE}
CHARGER = {
    CONF_CHARGER_ENABLE: ENABLE,
    CONF_CHARGER_CURRENT: CURRENT,
    CONF_CHARGER_POWER: CHARGER_POWER,
    CONF_CHARGER_PHASES: PHASES,
}


async def _start(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert KIND in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": KIND}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "loadpoint"
    return str(result["flow_id"])


@pytest.mark.usefixtures("charger")
async def test_flow_creates_a_loadpoint(hass: HomeAssistant) -> None:
    """Meters, then charger: an entry with the picks and default settings."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, SITE)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "loadpoint_charger"
    result = await hass.config_entries.flow.async_configure(flow_id, CHARGER)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Garage"
    entry = result["result"]
    assert entry.data[CONF_KIND] == KIND
    assert entry.data[CONF_GRID_SIGN] == GRID_EXPORT_POSITIVE
    assert entry.data[CONF_CHARGER_PHASES] == PHASES
    assert entry.data[CONF_BATTERY_SIGN] == "discharge_positive"
    assert "name" not in entry.data
    assert entry.options[OPT_MAX_CURRENT] == DEFAULTS[OPT_MAX_CURRENT]
    assert entry.unique_id == f"{KIND}_{ENABLE}"
    await hass.async_block_till_done()
    assert hass.states.get("select.garage_mode") is not None

    # The same charger cannot be added twice.
    flow_id = await _start(hass)
    await hass.config_entries.flow.async_configure(flow_id, SITE)
    result = await hass.config_entries.flow.async_configure(flow_id, CHARGER)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("charger")
async def test_flow_rejects_bad_entities(hass: HomeAssistant) -> None:
    """Missing entities and sensors without a power unit are named in the form."""
    hass.states.async_set("sensor.energy", "12", {"unit_of_measurement": "kWh"})
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {**SITE, CONF_GRID_POWER: "sensor.energy", CONF_PV_POWER: "sensor.nope"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {
        CONF_GRID_POWER: "loadpoint_not_power",
        CONF_PV_POWER: "loadpoint_entity_not_found",
    }
    result = await hass.config_entries.flow.async_configure(flow_id, SITE)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {**CHARGER, CONF_CHARGER_ENABLE: "switch.nope", CONF_CHARGER_POWER: "sensor.energy"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {
        CONF_CHARGER_ENABLE: "loadpoint_entity_not_found",
        CONF_CHARGER_POWER: "loadpoint_not_power",
    }
    result = await hass.config_entries.flow.async_configure(flow_id, CHARGER)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_options_change_the_settings(
    hass: HomeAssistant, setup_loadpoint: EntryFactory
) -> None:
    """The options flow validates, stores the settings and restarts the loadpoint."""
    entry = await setup_loadpoint()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "loadpoint_settings"
    settings = {**entry.options, OPT_MIN_CURRENT: 10.0, OPT_MAX_CURRENT: 8.0}
    result = await hass.config_entries.options.async_configure(result["flow_id"], settings)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {OPT_MIN_CURRENT: "loadpoint_min_above_max"}
    settings = {
        **entry.options,
        OPT_MAX_CURRENT: 20.0,
        OPT_FUSE_LIMIT: 25.0,
        OPT_BUFFER_SOC: 60.0,
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], settings)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options[OPT_MAX_CURRENT] == 20.0
    coordinator = entry.runtime_data
    assert coordinator.controller.settings.max_current_a == 20.0
    assert coordinator.site.settings.fuse_limit_a == 25.0
    assert coordinator.site.settings.buffer_soc == 60.0
    assert coordinator.site.settings.priority_soc is None


async def test_no_options_flow_for_unknown_settings(hass: HomeAssistant) -> None:
    """A loadpoint entry offers an options flow."""
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_KIND: KIND})
    assert config_entries.HANDLERS[DOMAIN].async_supports_options_flow(entry)


async def test_reconfigure_picks_other_entities(
    hass: HomeAssistant, setup_loadpoint: EntryFactory
) -> None:
    """Reconfiguring replaces the picks (suggesting the current ones) and keeps settings."""
    entry = await setup_loadpoint(max_current_a=20.0)
    hass.states.async_set("switch.wallbox", "off")
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "loadpoint"
    schema_keys = {str(key): key for key in result["data_schema"].schema}
    assert schema_keys[CONF_GRID_POWER].description == {"suggested_value": GRID}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], SITE)
    assert result["step_id"] == "loadpoint_charger"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**CHARGER, CONF_CHARGER_ENABLE: "switch.wallbox"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_CHARGER_ENABLE] == "switch.wallbox"
    assert entry.data[CONF_GRID_SIGN] == GRID_EXPORT_POSITIVE
    assert entry.unique_id == f"{KIND}_switch.wallbox"
    assert entry.options[OPT_MAX_CURRENT] == 20.0
    assert entry.runtime_data.conf[CONF_CHARGER_ENABLE] == "switch.wallbox"


async def test_reconfigure_to_a_charger_in_use_aborts(
    hass: HomeAssistant, setup_loadpoint: EntryFactory
) -> None:
    """Two loadpoints cannot drive one charger."""
    entry = await setup_loadpoint()
    MockConfigEntry(
        domain=DOMAIN, data={CONF_KIND: KIND}, unique_id=f"{KIND}_switch.other"
    ).add_to_hass(hass)
    hass.states.async_set("switch.other", "off")
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], SITE)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**CHARGER, CONF_CHARGER_ENABLE: "switch.other"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
