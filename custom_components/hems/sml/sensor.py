"""Sensors of an SML meter: created from the OBIS values the meter actually sends."""

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
    DEGREE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfFrequency,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from custom_components.hems.const import DOMAIN

from .coordinator import SmlConfigEntry, SmlCoordinator
from .engine import MeterState, manufacturer_name, meter_number


@dataclass(frozen=True, kw_only=True)
class SmlSensorDescription(SensorEntityDescription):
    """A sensor fed from the meter state; ``exists_fn`` says whether the meter has it."""

    value_fn: Callable[[SmlCoordinator], float | None]
    exists_fn: Callable[[MeterState], bool]


def _obis(key: str) -> Callable[[SmlCoordinator], float | None]:
    return lambda coordinator: coordinator.state.values.get(key)


def _has(key: str) -> Callable[[MeterState], bool]:
    return lambda state: key in state.values


def _energy(key: str, translation_key: str) -> SmlSensorDescription:
    return SmlSensorDescription(
        key=key,
        translation_key=translation_key,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        value_fn=_obis(key),
        exists_fn=_has(key),
    )


def _measurement(
    key: str,
    translation_key: str,
    device_class: SensorDeviceClass | None,
    unit: str,
    *,
    enabled: bool = True,
    precision: int | None = None,
) -> SmlSensorDescription:
    return SmlSensorDescription(
        key=key,
        translation_key=translation_key,
        device_class=device_class,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=unit,
        suggested_display_precision=precision,
        entity_registry_enabled_default=enabled,
        value_fn=_obis(key),
        exists_fn=_has(key),
    )


def _has_power(state: MeterState) -> bool:
    return state.power is not None


POWER = SensorDeviceClass.POWER
WATT = UnitOfPower.WATT

SENSORS: tuple[SmlSensorDescription, ...] = (
    _energy("1.8.0", "sml_energy_import"),
    _energy("1.8.1", "sml_energy_import_t1"),
    _energy("1.8.2", "sml_energy_import_t2"),
    _energy("2.8.0", "sml_energy_export"),
    _energy("2.8.1", "sml_energy_export_t1"),
    _energy("2.8.2", "sml_energy_export_t2"),
    SmlSensorDescription(
        key="power",
        translation_key="sml_power",
        device_class=POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=WATT,
        value_fn=lambda coordinator: coordinator.state.power,
        exists_fn=_has_power,
    ),
    SmlSensorDescription(
        key="grid_import_power",
        translation_key="sml_grid_import_power",
        device_class=POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=WATT,
        value_fn=lambda coordinator: coordinator.state.grid_import_power,
        exists_fn=_has_power,
    ),
    SmlSensorDescription(
        key="grid_export_power",
        translation_key="sml_grid_export_power",
        device_class=POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=WATT,
        value_fn=lambda coordinator: coordinator.state.grid_export_power,
        exists_fn=_has_power,
    ),
    _measurement("36.7.0", "sml_power_l1", POWER, WATT),
    _measurement("56.7.0", "sml_power_l2", POWER, WATT),
    _measurement("76.7.0", "sml_power_l3", POWER, WATT),
    *(
        _measurement(
            f"{c}.7.0",
            f"sml_voltage_l{phase}",
            SensorDeviceClass.VOLTAGE,
            UnitOfElectricPotential.VOLT,
            precision=1,
        )
        for phase, c in ((1, 32), (2, 52), (3, 72))
    ),
    *(
        _measurement(
            f"{c}.7.0",
            f"sml_current_l{phase}",
            SensorDeviceClass.CURRENT,
            UnitOfElectricCurrent.AMPERE,
            precision=2,
        )
        for phase, c in ((1, 31), (2, 51), (3, 71))
    ),
    _measurement("14.7.0", "sml_frequency", SensorDeviceClass.FREQUENCY, UnitOfFrequency.HERTZ),
    *(
        _measurement(key, f"sml_phase_angle_{name}", None, DEGREE, enabled=False)
        for key, name in (
            ("81.7.1", "ul2_ul1"),
            ("81.7.2", "ul3_ul1"),
            ("81.7.4", "il1_ul1"),
            ("81.7.15", "il2_ul2"),
            ("81.7.26", "il3_ul3"),
        )
    ),
    SmlSensorDescription(
        key="crc_errors",
        translation_key="sml_crc_errors",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda coordinator: coordinator.decoder.crc_errors,
        exists_fn=lambda state: True,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant, entry: SmlConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add a sensor for every value the meter sends, now and when new ones appear."""
    coordinator = entry.runtime_data
    added: set[str] = set()

    @callback
    def add_new() -> None:
        coordinator.new_keys = False
        new = [
            SmlSensor(coordinator, description)
            for description in SENSORS
            if description.key not in added and description.exists_fn(coordinator.state)
        ]
        added.update(entity.entity_description.key for entity in new)
        if new:
            async_add_entities(new)

    @callback
    def check_new() -> None:
        if coordinator.new_keys:
            add_new()

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(check_new))


class SmlSensor(CoordinatorEntity[SmlCoordinator], SensorEntity):
    """One value of the meter."""

    _attr_has_entity_name = True
    entity_description: SmlSensorDescription

    def __init__(self, coordinator: SmlCoordinator, description: SmlSensorDescription) -> None:
        """Link the sensor to the meter's device."""
        super().__init__(coordinator)
        self.entity_description = description
        server_id = coordinator.config_entry.unique_id or coordinator.state.server_id or ""
        self._attr_unique_id = f"{server_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, server_id)},
            manufacturer=manufacturer_name(server_id),
            serial_number=meter_number(server_id),
            name=coordinator.config_entry.title,
        )

    @property
    def native_value(self) -> float | None:
        """The latest accepted value."""
        return self.entity_description.value_fn(self.coordinator)

    @property
    def available(self) -> bool:
        """Unavailable after the silence timeout, and while the meter lacks the value."""
        return self.coordinator.last_update_success and self.native_value is not None
