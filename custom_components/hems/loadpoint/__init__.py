"""The PV-surplus loadpoint entry kind: charge a car from solar surplus.

Reads HA entities (grid power, optional PV and home battery, the charger's switch,
current number, phases and power sensor, optional vehicle SoC), runs the pure
:mod:`.controller` every cycle and writes the result to the charger's entities.
"""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant

from custom_components.hems.features import Feature

from . import number, select, sensor, time
from .config_flow import LoadpointOptionsFlow
from .const import KIND
from .coordinator import LoadpointConfigEntry, LoadpointCoordinator
from .diagnostics import async_get_diagnostics
from .services import async_setup_services


async def async_setup_entry(hass: HomeAssistant, entry: LoadpointConfigEntry) -> None:
    """Start the loadpoint's control loop."""
    coordinator = LoadpointCoordinator(hass, entry)
    entry.runtime_data = coordinator
    coordinator.start()


FEATURE = Feature(
    kind=KIND,
    async_setup_entry=async_setup_entry,
    platforms={
        Platform.NUMBER: number.async_setup_entry,
        Platform.SELECT: select.async_setup_entry,
        Platform.SENSOR: sensor.async_setup_entry,
        Platform.TIME: time.async_setup_entry,
    },
    async_get_diagnostics=async_get_diagnostics,
    async_setup=async_setup_services,
    options_flow=LoadpointOptionsFlow,
)
