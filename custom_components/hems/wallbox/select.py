"""1-phase / 3-phase charging, on wallboxes that can switch."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import WallboxConfigEntry, WallboxCoordinator
from .entity import WallboxEntity


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WallboxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the phases select if the profile can switch phases."""
    coordinator = entry.runtime_data
    if coordinator.driver.profile.can_switch_phases:
        async_add_entities([WallboxPhasesSelect(coordinator)])


class WallboxPhasesSelect(WallboxEntity, SelectEntity):
    """How many phases the car may charge on ("1" or "3")."""

    def __init__(self, coordinator: WallboxCoordinator) -> None:
        super().__init__(coordinator, "phases")
        self._attr_options = [str(p) for p in coordinator.driver.profile.phase_options]

    @property
    def current_option(self) -> str | None:
        """The phases the box reports."""
        phases = self.coordinator.data.phases
        return None if phases is None else str(phases)

    async def async_select_option(self, option: str) -> None:
        """Switch phases."""
        await self.coordinator.async_command(self.coordinator.driver.set_phases(int(option)))
