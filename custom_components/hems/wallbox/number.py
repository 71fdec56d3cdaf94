"""The charging current setpoint, limited by the profile."""

from __future__ import annotations

from homeassistant.components.number import NumberDeviceClass, NumberEntity, NumberMode
from homeassistant.const import UnitOfElectricCurrent
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import WallboxConfigEntry, WallboxCoordinator
from .entity import WallboxEntity


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WallboxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the current limit."""
    async_add_entities([WallboxCurrentLimit(entry.runtime_data)])


class WallboxCurrentLimit(WallboxEntity, NumberEntity):
    """Charging current in A; writes are clamped to the profile's limits."""

    _attr_device_class = NumberDeviceClass.CURRENT
    _attr_native_unit_of_measurement = UnitOfElectricCurrent.AMPERE
    _attr_mode = NumberMode.BOX

    def __init__(self, coordinator: WallboxCoordinator) -> None:
        super().__init__(coordinator, "current_limit")
        limits = coordinator.driver.profile.current
        self._attr_native_min_value = limits.min
        self._attr_native_max_value = limits.max
        self._attr_native_step = limits.step

    @property
    def native_value(self) -> float | None:
        """The commanded (or read back) current."""
        return self.coordinator.data.current_limit_a

    async def async_set_native_value(self, value: float) -> None:
        """Command a charging current."""
        await self.coordinator.async_command(self.coordinator.driver.set_current(value))
