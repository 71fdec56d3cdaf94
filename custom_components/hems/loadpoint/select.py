"""The loadpoint's charge mode (restored after a restart)."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .controller import ChargeMode
from .coordinator import LoadpointConfigEntry, LoadpointCoordinator
from .entity import LoadpointEntity


class LoadpointModeSelect(LoadpointEntity, SelectEntity, RestoreEntity):
    """Off, now, min+PV or PV."""

    _attr_options = [str(mode) for mode in ChargeMode]

    def __init__(self, coordinator: LoadpointCoordinator) -> None:
        """Create the mode select."""
        super().__init__(coordinator, "mode")

    async def async_added_to_hass(self) -> None:
        """Restore the mode the user chose before a restart."""
        await super().async_added_to_hass()
        last = await self.async_get_last_state()
        if last is not None and last.state in self._attr_options:
            self.coordinator.set_mode(last.state)

    @property
    def current_option(self) -> str:
        """The controller's mode."""
        return str(self.coordinator.controller.mode)

    async def async_select_option(self, option: str) -> None:
        """Change the mode."""
        self.coordinator.set_mode(option)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LoadpointConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the mode select."""
    async_add_entities([LoadpointModeSelect(entry.runtime_data)])
