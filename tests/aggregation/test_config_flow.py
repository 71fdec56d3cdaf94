"""Config flow of the aggregation: registry and explicit trees, errors, reconfiguration."""

from __future__ import annotations

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hems.aggregation.diagnostics import async_get_diagnostics
from custom_components.hems.const import CONF_KIND, DOMAIN

from .conftest import ENERGY, POWER, Site, aggregation_entry, settle, value

SETTINGS = {"name": "Home", "source": "registry", "mqtt_publish": False, "mqtt_interval": 10}


async def _start(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert "aggregation" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "aggregation"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "aggregation"
    flow_id: str = result["flow_id"]
    return flow_id


async def test_registry_entry(hass: HomeAssistant, site: Site) -> None:
    """The registry hierarchy needs no more than the settings; names are unique."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, SETTINGS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Home"
    assert result["data"] == {
        CONF_KIND: "aggregation",
        "tree": "",
        "mqtt_prefix": "hems",
        **SETTINGS,
    }
    await hass.async_block_till_done()
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, SETTINGS)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    for entry in hass.config_entries.async_entries(DOMAIN):
        assert await hass.config_entries.async_unload(entry.entry_id)


async def test_mqtt_needs_the_mqtt_integration(hass: HomeAssistant) -> None:
    """Publishing without an MQTT entry is refused with a clear error."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {**SETTINGS, "mqtt_publish": True}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "aggregation_mqtt_missing"}
    MockConfigEntry(domain="mqtt", data={"broker": "127.0.0.1"}).add_to_hass(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {**SETTINGS, "mqtt_publish": True, "mqtt_prefix": "site/x"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["mqtt_prefix"] == "site/x"


async def test_explicit_tree_with_errors(hass: HomeAssistant, site: Site) -> None:
    """A bad tree names the line and the problem; a good one creates the entry."""
    hass.states.async_set("sensor.fridge_power", "100", POWER)
    hass.states.async_set("sensor.meter", "500", POWER)
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {**SETTINGS, "source": "explicit", "site_power": "sensor.meter"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "aggregation_tree"
    cases = [
        ("A sensor.x", "aggregation_tree_syntax", "1", ""),
        ("A: sensor.fridge_power\nB: sensor.fridge_power", "aggregation_tree_duplicate", "2", ""),
        ("A: sensor.fridge_power\nB: sensor.nope", "aggregation_tree_unknown_entity", "2", ""),
        ("A: sensor.meter", "aggregation_tree_site_meter", "1", "sensor.meter"),
    ]
    for text, error, line, entity in cases:
        result = await hass.config_entries.flow.async_configure(flow_id, {"tree": text})
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": error}, text
        assert result["description_placeholders"]["line"] == line
        if entity:
            assert result["description_placeholders"]["entity"] == entity
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"tree": "Home/Kitchen: sensor.fridge_power, sensor.fridge_energy"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    await settle(hass)
    assert value(hass, entry, "path:Kitchen", "power") == "100.0"
    assert value(hass, entry, "site", "unmeasured_power") == "400.0"
    # Its own sensors can never be members of an aggregation.
    flow_id = await _start(hass)
    await hass.config_entries.flow.async_configure(
        flow_id, {**SETTINGS, "name": "Other", "source": "explicit"}
    )
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"tree": "X: sensor.home_site_power"}
    )
    assert result["errors"] == {"base": "aggregation_tree_own_entity"}
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_and_diagnostics(hass: HomeAssistant, site: Site) -> None:
    """Switching to an explicit tree keeps the totals of nodes that stay; diagnostics."""
    hass.states.async_set("sensor.fridge_power", "100", POWER)
    hass.states.async_set("sensor.fridge_energy", "10", ENERGY)
    entry = aggregation_entry(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    hass.states.async_set("sensor.fridge_energy", "11", ENERGY)
    await settle(hass)
    diagnostics = await async_get_diagnostics(hass, entry)
    assert diagnostics["nodes"]["site"]["energy"] == 1.0
    assert diagnostics["tree"]["name"] == "Home"
    assert diagnostics["mqtt"]["published"] == 0
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_aggregation"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**SETTINGS, "source": "explicit"}
    )
    assert result["step_id"] == "aggregation_tree"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"tree": "Home/Kitchen: sensor.fridge_energy"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await settle(hass)
    assert entry.data["tree"] == "Home/Kitchen: sensor.fridge_energy"
    assert value(hass, entry, "site", "energy") == "1.0"
    hass.states.async_set("sensor.fridge_energy", "11.5", ENERGY)
    await settle(hass)
    assert value(hass, entry, "site", "energy") == "1.5"
    assert value(hass, entry, "path:Kitchen", "energy") == "0.5"
    assert await hass.config_entries.async_unload(entry.entry_id)
