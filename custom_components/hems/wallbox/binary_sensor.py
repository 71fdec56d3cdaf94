"""Wallbox binary sensors derived from the IEC 61851 state (for the loadpoint)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import WallboxConfigEntry, WallboxCoordinator
from .driver import FAULT_STATES, WallboxStatus
from .entity import WallboxEntity


@dataclass(frozen=True, kw_only=True)
class WallboxBinarySensorDescription(BinarySensorEntityDescription):
    """A yes/no view of the wallbox state."""

    value_fn: Callable[[WallboxStatus], bool | None]


BINARY_SENSORS: tuple[WallboxBinarySensorDescription, ...] = (
    WallboxBinarySensorDescription(
        key="plugged",
        device_class=BinarySensorDeviceClass.PLUG,
        value_fn=lambda status: status.plugged,
    ),
    WallboxBinarySensorDescription(
        key="charging",
        device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
        value_fn=lambda status: status.charging,
    ),
    WallboxBinarySensorDescription(
        key="fault",
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda status: None if status.state is None else status.state in FAULT_STATES,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WallboxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add plugged-in, charging and fault."""
    coordinator = entry.runtime_data
    async_add_entities(
        WallboxBinarySensor(coordinator, description) for description in BINARY_SENSORS
    )


class WallboxBinarySensor(WallboxEntity, BinarySensorEntity):
    """Plugged in, charging or fault."""

    entity_description: WallboxBinarySensorDescription

    def __init__(
        self, coordinator: WallboxCoordinator, description: WallboxBinarySensorDescription
    ) -> None:
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def is_on(self) -> bool | None:
        """Derived from the last IEC state."""
        return self.entity_description.value_fn(self.coordinator.data)
