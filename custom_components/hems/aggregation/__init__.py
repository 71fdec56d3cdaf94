"""Energy aggregation: power and energy per node of a hierarchy (site, floors, areas ...).

``engine.py`` is the pure tree and sum engine; ``runtime.py`` connects it to Home
Assistant's registries, states and MQTT; ``sensor.py`` holds the node sensors.
"""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant

from custom_components.hems.features import Feature

from .const import KIND
from .diagnostics import async_get_diagnostics
from .runtime import AggregationConfigEntry, AggregationRuntime, totals_store
from .sensor import async_setup_entry as async_setup_sensors


async def async_setup_entry(hass: HomeAssistant, entry: AggregationConfigEntry) -> None:
    """Build the tree, restore the totals and start following members and registries."""
    runtime = AggregationRuntime(hass, entry)
    entry.runtime_data = runtime
    await runtime.async_start()


async def async_remove_entry(hass: HomeAssistant, entry: AggregationConfigEntry) -> None:
    """Delete the stored totals of a removed entry."""
    await totals_store(hass, entry.entry_id).async_remove()


FEATURE = Feature(
    kind=KIND,
    async_setup_entry=async_setup_entry,
    platforms={Platform.SENSOR: async_setup_sensors},
    async_get_diagnostics=async_get_diagnostics,
    async_remove_entry=async_remove_entry,
)
