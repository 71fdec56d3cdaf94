"""Base entity of a loadpoint: one device per loadpoint entry."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from custom_components.hems.const import DOMAIN, MANUFACTURER

from .coordinator import LoadpointCoordinator


class LoadpointEntity(CoordinatorEntity[LoadpointCoordinator]):
    """An entity of one loadpoint, named by its translation key."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: LoadpointCoordinator, key: str) -> None:
        """Name the entity ``loadpoint_<key>`` and attach it to the loadpoint's device."""
        super().__init__(coordinator)
        entry_id = coordinator.entry.entry_id
        self._attr_translation_key = f"loadpoint_{key}"
        self._attr_unique_id = f"{entry_id}_{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry_id)},
            name=coordinator.entry.title,
            manufacturer=MANUFACTURER,
            model="PV-surplus loadpoint",
            entry_type=DeviceEntryType.SERVICE,
        )
