"""The wallbox steps of the config flow, against simulated wallboxes."""

from __future__ import annotations

from homeassistant import config_entries
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_SCAN_INTERVAL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.hems.const import CONF_KIND, DOMAIN
from custom_components.hems.wallbox import const
from custom_components.hems.wallbox.const import CONF_PROFILE, CONF_UNIT_ID

from .conftest import AddEntry, StartBox
from .test_driver import free_port


async def start_flow(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert "wallbox" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "wallbox"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "wallbox"
    flow_id: str = result["flow_id"]
    return flow_id


@pytest.mark.parametrize("brand", ["phoenix", "abb", "alfen"])
async def test_create_entry(hass: HomeAssistant, boxes: StartBox, brand: str) -> None:
    """The flow reads the state register, then creates the entry with the profile's unit."""
    box = await boxes(brand)
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PROFILE: brand, CONF_HOST: " 127.0.0.1 ", CONF_PORT: box.port}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_KIND: "wallbox",
        CONF_PROFILE: brand,
        CONF_HOST: "127.0.0.1",
        CONF_PORT: box.port,
        CONF_UNIT_ID: box.box.unit_id,
    }
    assert result["options"] == {CONF_SCAN_INTERVAL: 5}
    assert "127.0.0.1" in result["title"]
    assert box.box.reads  # the probe really asked the box
    await hass.async_block_till_done()
    entry = result["result"]
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_wrong_unit_id(
    hass: HomeAssistant, boxes: StartBox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A unit id the box does not have: no answer, a clear error, the form again."""
    monkeypatch.setattr(const, "PROBE_TIMEOUT", 0.3)
    box = await boxes("phoenix")
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {CONF_PROFILE: "phoenix", CONF_HOST: "127.0.0.1", CONF_PORT: box.port, CONF_UNIT_ID: 7},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "wallbox_no_answer"}
    # Fixing the unit id succeeds.
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {CONF_PROFILE: "phoenix", CONF_HOST: "127.0.0.1", CONF_PORT: box.port, CONF_UNIT_ID: 255},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_wrong_profile(hass: HomeAssistant, boxes: StartBox) -> None:
    """Phoenix's registers asked of an ABB box: the box refuses, the flow says so."""
    box = await boxes("abb")
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {CONF_PROFILE: "phoenix", CONF_HOST: "127.0.0.1", CONF_PORT: box.port, CONF_UNIT_ID: 1},
    )
    assert result["errors"] == {"base": "wallbox_wrong_profile"}


async def test_state_that_makes_no_sense(hass: HomeAssistant, boxes: StartBox) -> None:
    """A state register that answers with nonsense also means the wrong profile."""
    box = await boxes("abb")
    box.box.CODES = {**box.box.CODES, "A": 99}  # type: ignore[attr-defined]
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PROFILE: "abb", CONF_HOST: "127.0.0.1", CONF_PORT: box.port}
    )
    assert result["errors"] == {"base": "wallbox_wrong_profile"}


async def test_cannot_connect(hass: HomeAssistant, socket_enabled: None) -> None:
    """Nothing listens there."""
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PROFILE: "alfen", CONF_HOST: "127.0.0.1", CONF_PORT: free_port()}
    )
    assert result["errors"] == {"base": "wallbox_cannot_connect"}


async def test_already_configured(
    hass: HomeAssistant, boxes: StartBox, add_entry: AddEntry
) -> None:
    """The same box twice is refused."""
    box = await boxes("alfen")
    await add_entry("alfen", box)
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PROFILE: "alfen", CONF_HOST: "127.0.0.1", CONF_PORT: box.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reconfigure(hass: HomeAssistant, boxes: StartBox, add_entry: AddEntry) -> None:
    """A new address of the same box is checked, saved and the entry reloaded."""
    box = await boxes("abb")
    entry = await add_entry("abb", box)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_wallbox"
    # A wrong profile is refused first.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_PROFILE: "phoenix", CONF_HOST: "127.0.0.1", CONF_PORT: box.port, CONF_UNIT_ID: 1},
    )
    assert result["errors"] == {"base": "wallbox_wrong_profile"}
    # Another device (a different unit id) is refused: that is a new entry.
    moved = await boxes("abb")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_PROFILE: "abb", CONF_HOST: "127.0.0.1", CONF_PORT: moved.port, CONF_UNIT_ID: 1},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wallbox_other_device"
    # The same address passes.
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_PROFILE: "abb", CONF_HOST: "127.0.0.1", CONF_PORT: box.port, CONF_UNIT_ID: 1},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_PROFILE] == "abb"


async def test_options_set_the_polling_interval(
    hass: HomeAssistant, boxes: StartBox, add_entry: AddEntry
) -> None:
    """The options flow changes the polling interval and reloads the entry."""
    box = await boxes("phoenix")
    entry = await add_entry("phoenix", box)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SCAN_INTERVAL: 30}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {CONF_SCAN_INTERVAL: 30}
    assert entry.runtime_data.update_interval is not None
    assert entry.runtime_data.update_interval.total_seconds() == 30
