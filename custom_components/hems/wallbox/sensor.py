"""Wallbox sensors: IEC 61851 state, power, energy, currents, voltages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import WallboxConfigEntry, WallboxCoordinator
from .driver import WallboxStatus
from .entity import WallboxEntity
from .profile import IEC_STATES, Profile


@dataclass(frozen=True, kw_only=True)
class WallboxSensorDescription(SensorEntityDescription):
    """A wallbox sensor: its value and whether the profile offers it."""

    value_fn: Callable[[WallboxStatus], float | str | None]
    exists_fn: Callable[[Profile], bool] = lambda _profile: True


def _has(*roles: str) -> Callable[[Profile], bool]:
    return lambda profile: any(role in profile.registers for role in roles)


def _phase_value(field: str, phase: int) -> Callable[[WallboxStatus], float | None]:
    def value(status: WallboxStatus) -> float | None:
        readings: dict[int, float] = getattr(status, field)
        return readings.get(phase)

    return value


def _state(status: WallboxStatus) -> str | None:
    return status.state.lower() if status.state else None


SENSORS: tuple[WallboxSensorDescription, ...] = (
    WallboxSensorDescription(
        key="state",
        device_class=SensorDeviceClass.ENUM,
        options=[letter.lower() for letter in IEC_STATES],
        value_fn=_state,
    ),
    WallboxSensorDescription(
        key="power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=lambda status: status.power_w,
        exists_fn=_has("power"),
    ),
    WallboxSensorDescription(
        key="energy_total",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda status: status.energy_total_wh,
        exists_fn=_has("energy_total"),
    ),
    WallboxSensorDescription(
        key="energy_session",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda status: status.energy_session_wh,
        exists_fn=_has("energy_total", "energy_session"),
    ),
    *(
        WallboxSensorDescription(
            key=f"current_l{phase}",
            translation_placeholders={"phase": f"L{phase}"},
            device_class=SensorDeviceClass.CURRENT,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
            suggested_display_precision=1,
            value_fn=_phase_value("currents_a", phase),
            exists_fn=_has(f"current_l{phase}"),
        )
        for phase in (1, 2, 3)
    ),
    *(
        WallboxSensorDescription(
            key=f"voltage_l{phase}",
            translation_placeholders={"phase": f"L{phase}"},
            device_class=SensorDeviceClass.VOLTAGE,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfElectricPotential.VOLT,
            suggested_display_precision=0,
            entity_category=EntityCategory.DIAGNOSTIC,
            entity_registry_enabled_default=False,
            value_fn=_phase_value("voltages_v", phase),
            exists_fn=_has(f"voltage_l{phase}"),
        )
        for phase in (1, 2, 3)
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WallboxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors the wallbox's profile offers."""
    coordinator = entry.runtime_data
    async_add_entities(
        WallboxSensor(coordinator, description)
        for description in SENSORS
        if description.exists_fn(coordinator.driver.profile)
    )


class WallboxSensor(WallboxEntity, SensorEntity):
    """One reading of the wallbox."""

    entity_description: WallboxSensorDescription

    def __init__(
        self, coordinator: WallboxCoordinator, description: WallboxSensorDescription
    ) -> None:
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> float | str | None:
        """The value from the last poll."""
        return self.entity_description.value_fn(self.coordinator.data)
