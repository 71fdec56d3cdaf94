"""Wallboxes over Modbus TCP: one generic driver, one YAML profile per wallbox model."""

from __future__ import annotations

from homeassistant.const import CONF_HOST, CONF_PORT, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError

from custom_components.hems.const import DOMAIN
from custom_components.hems.features import Feature

from . import binary_sensor, diagnostics, number, select, sensor, switch
from .config_flow import WallboxOptionsFlow
from .const import CONF_PROFILE, CONF_UNIT_ID, KIND, POLL_TIMEOUT
from .coordinator import WallboxConfigEntry, WallboxCoordinator
from .driver import WallboxDriver
from .profile import PROFILES


async def async_setup_entry(hass: HomeAssistant, entry: WallboxConfigEntry) -> None:
    """Connect, read once (ConfigEntryNotReady if the box does not answer), start polling."""
    profile = PROFILES.get(entry.data[CONF_PROFILE])
    if profile is None:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="wallbox_unknown_profile",
            translation_placeholders={"profile": str(entry.data[CONF_PROFILE])},
        )
    driver = WallboxDriver(
        profile,
        entry.data[CONF_HOST],
        port=entry.data[CONF_PORT],
        unit_id=entry.data[CONF_UNIT_ID],
        timeout=POLL_TIMEOUT,
    )
    entry.async_on_unload(driver.close)
    coordinator = WallboxCoordinator(hass, entry, driver)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    if (stop_heartbeat := coordinator.async_start_heartbeat()) is not None:
        entry.async_on_unload(stop_heartbeat)


FEATURE = Feature(
    kind=KIND,
    async_setup_entry=async_setup_entry,
    platforms={
        Platform.SENSOR: sensor.async_setup_entry,
        Platform.BINARY_SENSOR: binary_sensor.async_setup_entry,
        Platform.NUMBER: number.async_setup_entry,
        Platform.SWITCH: switch.async_setup_entry,
        Platform.SELECT: select.async_setup_entry,
    },
    async_get_diagnostics=diagnostics.async_get_diagnostics,
    options_flow=WallboxOptionsFlow,
)

__all__ = ["FEATURE", "WallboxCoordinator"]
