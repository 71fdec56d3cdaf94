"""The loadpoint's vehicle SoC settings: min SoC, limit SoC, departure target SoC."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.number import NumberEntity, NumberEntityDescription, NumberMode
from homeassistant.const import PERCENTAGE
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .coordinator import LoadpointConfigEntry, LoadpointCoordinator
from .entity import LoadpointEntity


@dataclass(frozen=True, kw_only=True)
class LoadpointNumberDescription(NumberEntityDescription):
    """How a number reads and writes its setting."""

    value_fn: Callable[[LoadpointCoordinator], float]
    set_fn: Callable[[LoadpointCoordinator, float], None]


NUMBERS: tuple[LoadpointNumberDescription, ...] = (
    LoadpointNumberDescription(
        key="min_soc",
        native_min_value=0,
        native_max_value=100,
        native_step=1,
        native_unit_of_measurement=PERCENTAGE,
        mode=NumberMode.SLIDER,
        value_fn=lambda c: c.controller.settings.min_soc or 0.0,
        set_fn=lambda c, v: c.set_min_soc(v),
    ),
    LoadpointNumberDescription(
        key="limit_soc",
        native_min_value=0,
        native_max_value=100,
        native_step=1,
        native_unit_of_measurement=PERCENTAGE,
        mode=NumberMode.SLIDER,
        value_fn=lambda c: (
            100.0 if c.controller.settings.limit_soc is None else c.controller.settings.limit_soc
        ),
        set_fn=lambda c, v: c.set_limit_soc(v),
    ),
    LoadpointNumberDescription(
        key="target_soc",
        native_min_value=0,
        native_max_value=100,
        native_step=1,
        native_unit_of_measurement=PERCENTAGE,
        mode=NumberMode.SLIDER,
        value_fn=lambda c: c.target_soc or 0.0,
        set_fn=lambda c, v: c.set_plan(None, v),
    ),
)


class LoadpointNumber(LoadpointEntity, NumberEntity, RestoreEntity):
    """A SoC setting, restored after a restart."""

    entity_description: LoadpointNumberDescription

    def __init__(
        self, coordinator: LoadpointCoordinator, description: LoadpointNumberDescription
    ) -> None:
        """Create the number for ``description``."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    async def async_added_to_hass(self) -> None:
        """Restore the value the user set before a restart."""
        await super().async_added_to_hass()
        last = await self.async_get_last_state()
        if last is None:
            return
        try:
            value = float(last.state)
        except ValueError:
            return
        if 0 <= value <= 100:
            self.entity_description.set_fn(self.coordinator, value)

    @property
    def native_value(self) -> float:
        """The setting's value."""
        return self.entity_description.value_fn(self.coordinator)

    async def async_set_native_value(self, value: float) -> None:
        """Change the setting."""
        self.entity_description.set_fn(self.coordinator, value)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LoadpointConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the SoC numbers."""
    async_add_entities(LoadpointNumber(entry.runtime_data, d) for d in NUMBERS)
