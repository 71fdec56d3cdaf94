"""SML smart meters (German IR interface) over a serial port or a TCP stream."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant

from custom_components.hems.features import Feature

from .config_flow import SmlOptionsFlow
from .const import KIND
from .coordinator import SmlConfigEntry, SmlCoordinator
from .sensor import async_setup_entry as async_setup_sensors

TO_REDACT = {"unique_id", "server_id", "serial", "title", "0.0.0", "0.0.9", "96.1.0"}


async def async_setup_entry(hass: HomeAssistant, entry: SmlConfigEntry) -> None:
    """Connect to the meter and wait for its first frame."""
    coordinator = SmlCoordinator(hass, entry)
    await coordinator.async_start()
    entry.runtime_data = coordinator
    entry.async_on_unload(coordinator.async_stop)


async def async_get_diagnostics(hass: HomeAssistant, entry: SmlConfigEntry) -> dict[str, Any]:
    """Entry, link counters and the latest values; the meter's serial is redacted."""
    coordinator = entry.runtime_data
    return {
        "entry": async_redact_data(
            {
                "title": entry.title,
                "unique_id": entry.unique_id,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            TO_REDACT,
        ),
        "meter": async_redact_data(coordinator.diagnostics(), TO_REDACT),
    }


FEATURE = Feature(
    kind=KIND,
    async_setup_entry=async_setup_entry,
    platforms={Platform.SENSOR: async_setup_sensors},
    async_get_diagnostics=async_get_diagnostics,
    options_flow=SmlOptionsFlow,
)
