"""The loadpoint's departure time (restored after a restart)."""

from __future__ import annotations

from datetime import time

from homeassistant.components.time import TimeEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .coordinator import LoadpointConfigEntry, LoadpointCoordinator
from .entity import LoadpointEntity


class LoadpointDepartureTime(LoadpointEntity, TimeEntity, RestoreEntity):
    """When the car should reach its target SoC (daily)."""

    def __init__(self, coordinator: LoadpointCoordinator) -> None:
        """Create the departure time."""
        super().__init__(coordinator, "departure")

    async def async_added_to_hass(self) -> None:
        """Restore the departure time set before a restart."""
        await super().async_added_to_hass()
        last = await self.async_get_last_state()
        if last is None:
            return
        try:
            value = time.fromisoformat(last.state)
        except ValueError:
            return
        self.coordinator.set_plan(value, None)

    @property
    def native_value(self) -> time | None:
        """The departure time."""
        return self.coordinator.departure

    async def async_set_value(self, value: time) -> None:
        """Change the departure time."""
        self.coordinator.set_plan(value, None)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LoadpointConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the departure time."""
    async_add_entities([LoadpointDepartureTime(entry.runtime_data)])
