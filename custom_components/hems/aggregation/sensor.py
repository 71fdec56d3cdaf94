"""Sensors of the aggregation: power, energy and reporting members of every node."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfEnergy, UnitOfPower
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from custom_components.hems.const import DOMAIN, MANUFACTURER

from .const import MAX_LISTED_UNAVAILABLE
from .engine import Node
from .runtime import AggregationConfigEntry, AggregationRuntime


@dataclass(frozen=True, kw_only=True)
class NodeSensorDescription(SensorEntityDescription):
    """How one kind of node sensor reads its node."""

    value_fn: Callable[[Node], float | int | None]
    needs_meter: bool = False
    lists_unavailable: bool = False


DESCRIPTIONS: tuple[NodeSensorDescription, ...] = (
    NodeSensorDescription(
        key="power",
        translation_key="aggregation_power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=lambda node: node.power_value,
        lists_unavailable=True,
    ),
    NodeSensorDescription(
        key="energy",
        translation_key="aggregation_energy",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        value_fn=lambda node: round(node.energy, 6),
    ),
    NodeSensorDescription(
        key="reporting",
        translation_key="aggregation_reporting",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda node: node.reporting,
        lists_unavailable=True,
    ),
    NodeSensorDescription(
        key="unmeasured_power",
        translation_key="aggregation_unmeasured_power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=lambda node: node.unmeasured_power,
        needs_meter=True,
    ),
    NodeSensorDescription(
        key="unmeasured_energy",
        translation_key="aggregation_unmeasured_energy",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        value_fn=lambda node: round(node.unmeasured_energy, 6),
        needs_meter=True,
    ),
)


def node_entities(runtime: AggregationRuntime, key: str) -> list[NodeSensor]:
    """The sensors one node has (the unmeasured ones only with a meter)."""
    node = runtime.aggregator.nodes[key]
    return [
        NodeSensor(runtime, key, description)
        for description in DESCRIPTIONS
        if node.has_meter or not description.needs_meter
    ]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AggregationConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of every node; the runtime adds and removes more as the tree changes."""
    entry.runtime_data.attach(async_add_entities, node_entities)


class NodeSensor(SensorEntity):
    """One value of one node; written by the runtime's coalesced flush, never polled."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    _unrecorded_attributes = frozenset({"unavailable_members", "members", "path"})
    entity_description: NodeSensorDescription

    def __init__(
        self, runtime: AggregationRuntime, key: str, description: NodeSensorDescription
    ) -> None:
        """Describe the sensor of ``description`` for node ``key``."""
        self.runtime = runtime
        self.node_key = key
        self.entity_description = description
        entry = runtime.entry
        node = runtime.aggregator.nodes[key]
        self._attr_unique_id = f"{entry.entry_id}_{key}_{description.key}"
        if node.parent is None:
            self._attr_translation_key = f"{description.translation_key}_site"
        else:
            self._attr_translation_placeholders = {"node": node.name}
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            manufacturer=MANUFACTURER,
            model="Energy aggregation",
            entry_type=DeviceEntryType.SERVICE,
        )
        self._written: tuple[Any, ...] | None = None
        self._added = False

    async def async_added_to_hass(self) -> None:
        """From now on the runtime's flush writes the state."""
        self._added = True

    async def async_will_remove_from_hass(self) -> None:
        """No writes after removal."""
        self._added = False

    @property
    def node(self) -> Node:
        """The node as the current tree has it (nodes are replaced on a rebuild)."""
        return self.runtime.aggregator.nodes[self.node_key]

    @property
    def native_value(self) -> float | int | None:
        """The node's value."""
        return self.entity_description.value_fn(self.node)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Where the node sits; which members do not report."""
        node = self.node
        attributes: dict[str, Any] = {"path": "/".join(node.path)}
        if self.entity_description.lists_unavailable:
            attributes["members"] = node.members
            attributes["unavailable_members"] = sorted(node.unavailable)[:MAX_LISTED_UNAVAILABLE]
        return attributes

    @callback
    def async_write_if_changed(self) -> None:
        """Write the state if the value or the unavailable members changed."""
        if not self._added:
            return  # not added yet; HA writes the first state itself
        node = self.node
        written = (
            self.native_value,
            node.unavailable_changes if self.entity_description.lists_unavailable else 0,
        )
        if written != self._written:
            self._written = written
            self.async_write_ha_state()
