"""Charging enabled: the switch the loadpoint turns on and off."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import WallboxConfigEntry, WallboxCoordinator
from .entity import WallboxEntity


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WallboxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the charging switch."""
    async_add_entities([WallboxChargingSwitch(entry.runtime_data)])


class WallboxChargingSwitch(WallboxEntity, SwitchEntity):
    """Allow or stop charging (an enable register, or a 0 A setpoint)."""

    def __init__(self, coordinator: WallboxCoordinator) -> None:
        super().__init__(coordinator, "charging_enabled")

    @property
    def is_on(self) -> bool | None:
        """Whether charging is allowed."""
        return self.coordinator.data.enabled

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Allow charging."""
        await self.coordinator.async_command(self.coordinator.driver.set_enabled(True))

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop charging."""
        await self.coordinator.async_command(self.coordinator.driver.set_enabled(False))
