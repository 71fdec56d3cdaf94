"""Sensors of a loadpoint: status, reason, surplus, command, phases, session."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfEnergy, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .controller import ReasonCode, Status
from .coordinator import LoadpointConfigEntry, LoadpointCoordinator
from .entity import LoadpointEntity


@dataclass(frozen=True, kw_only=True)
class LoadpointSensorDescription(SensorEntityDescription):
    """How a loadpoint sensor gets its value."""

    value_fn: Callable[[LoadpointCoordinator], StateType]
    attrs_fn: Callable[[LoadpointCoordinator], Mapping[str, Any] | None] = lambda _: None


def _reason_params(c: LoadpointCoordinator) -> Mapping[str, Any] | None:
    return None if c.data is None else dict(c.data.reason.params)


SENSORS: tuple[LoadpointSensorDescription, ...] = (
    LoadpointSensorDescription(
        key="status",
        device_class=SensorDeviceClass.ENUM,
        options=[str(s) for s in Status],
        value_fn=lambda c: None if c.data is None else str(c.data.status),
        attrs_fn=lambda c: {"charger_not_following": c.not_following},
    ),
    LoadpointSensorDescription(
        key="reason",
        device_class=SensorDeviceClass.ENUM,
        options=[str(r) for r in ReasonCode],
        value_fn=lambda c: None if c.data is None else str(c.data.reason.code),
        attrs_fn=_reason_params,
    ),
    LoadpointSensorDescription(
        key="surplus_power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=lambda c: None if c.data is None else round(c.data.available_power_w, 1),
    ),
    LoadpointSensorDescription(
        key="charge_power_command",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=lambda c: None if c.data is None else round(c.data.target_power_w, 1),
    ),
    LoadpointSensorDescription(
        key="charge_current_command",
        device_class=SensorDeviceClass.CURRENT,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement="A",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda c: None if c.data is None else c.data.current_a,
    ),
    LoadpointSensorDescription(
        key="phases",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda c: None if c.data is None else c.data.phases,
    ),
    LoadpointSensorDescription(
        key="session_energy",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda c: round(c.session_energy_kwh, 4),
        attrs_fn=lambda c: {
            "session_started": (
                None if c.session_started is None else c.session_started.isoformat()
            ),
            "solar_energy_kwh": round(c.session_solar_kwh, 4),
        },
    ),
    LoadpointSensorDescription(
        key="session_solar_share",
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        value_fn=lambda c: c.session_solar_share,
    ),
)


class LoadpointSensor(LoadpointEntity, SensorEntity):
    """A value of the loadpoint's last decision or session."""

    entity_description: LoadpointSensorDescription

    def __init__(
        self, coordinator: LoadpointCoordinator, description: LoadpointSensorDescription
    ) -> None:
        """Create the sensor for ``description``."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> StateType:
        """The value from the coordinator."""
        return self.entity_description.value_fn(self.coordinator)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Parameters of the reason, session start, ..."""
        return self.entity_description.attrs_fn(self.coordinator)


class SessionEnergySensor(LoadpointSensor, RestoreEntity):
    """Session energy, continued after a restart."""

    async def async_added_to_hass(self) -> None:
        """Restore the session's energy and its solar part."""
        await super().async_added_to_hass()
        last = await self.async_get_last_state()
        if last is None:
            return
        try:
            energy = float(last.state)
            solar = float(last.attributes.get("solar_energy_kwh", 0.0))
        except (TypeError, ValueError):
            return
        started = dt_util.parse_datetime(str(last.attributes.get("session_started") or ""))
        self.coordinator.restore_session(energy, solar, started)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LoadpointConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the loadpoint's sensors."""
    coordinator = entry.runtime_data
    async_add_entities(
        (SessionEnergySensor if d.key == "session_energy" else LoadpointSensor)(coordinator, d)
        for d in SENSORS
    )
