"""The base of every wallbox entity: one device per wallbox."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from custom_components.hems.const import DOMAIN

from .coordinator import WallboxCoordinator


class WallboxEntity(CoordinatorEntity[WallboxCoordinator]):
    """An entity of one wallbox."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: WallboxCoordinator, key: str) -> None:
        super().__init__(coordinator)
        entry = coordinator.config_entry
        profile = coordinator.driver.profile
        self._attr_translation_key = f"wallbox_{key}"
        self._attr_unique_id = f"{entry.entry_id}_{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            manufacturer=profile.manufacturer,
            model=profile.model,
            name=entry.title,
        )
