"""Home Assistant glue of the aggregation: hierarchy, state tracking, writes, MQTT."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    floor_registry as fr,
)
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.event import async_track_state_change_event, async_track_time_interval
from homeassistant.helpers.json import json_dumps
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from custom_components.hems.const import CONF_KIND, DOMAIN

from .const import (
    AGGREGATING_PLATFORMS,
    CONF_MQTT_INTERVAL,
    CONF_MQTT_PREFIX,
    CONF_MQTT_PUBLISH,
    CONF_NAME,
    CONF_SITE_ENERGY,
    CONF_SITE_POWER,
    CONF_SOURCE,
    CONF_TREE,
    DEFAULT_MQTT_INTERVAL,
    DEFAULT_MQTT_PREFIX,
    KIND,
    REBUILD_COOLDOWN,
    SAVE_DELAY,
    SOURCE_EXPLICIT,
    STORAGE_VERSION,
    WRITE_INTERVAL,
)
from .engine import (
    ENERGY_UNITS,
    POWER_UNITS,
    Aggregator,
    NodeSpec,
    RegistryArea,
    parse_tree,
    registry_tree,
)

if TYPE_CHECKING:
    from .sensor import NodeSensor

_LOGGER = logging.getLogger(__package__)

type AggregationConfigEntry = ConfigEntry[AggregationRuntime]
type EntityFactory = Callable[[AggregationRuntime, str], list[NodeSensor]]

_REGISTRY_EVENTS = (
    er.EVENT_ENTITY_REGISTRY_UPDATED,
    dr.EVENT_DEVICE_REGISTRY_UPDATED,
    ar.EVENT_AREA_REGISTRY_UPDATED,
    fr.EVENT_FLOOR_REGISTRY_UPDATED,
)

_RELEVANT_ENTITY_CHANGES = frozenset(
    {
        "area_id",
        "device_id",
        "disabled_by",
        "device_class",
        "original_device_class",
        "entity_category",
        "entity_id",
        "unit_of_measurement",
    }
)


def own_entity_ids(hass: HomeAssistant) -> set[str]:
    """Entities of every aggregation entry: never members (no feedback loops)."""
    kinds = {
        entry.entry_id
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.data.get(CONF_KIND) == KIND
    }
    return {
        entry.entity_id
        for entry in er.async_get(hass).entities.values()
        if entry.platform == DOMAIN and entry.config_entry_id in kinds
    }


def _is_member_candidate(entry: er.RegistryEntry) -> bool:
    if entry.domain != "sensor" or entry.disabled_by is not None:
        return False
    if entry.entity_category is not None or entry.platform in AGGREGATING_PLATFORMS:
        return False
    device_class = entry.device_class or entry.original_device_class
    if device_class in (SensorDeviceClass.POWER, SensorDeviceClass.ENERGY):
        return True
    unit = entry.unit_of_measurement
    return unit in POWER_UNITS or unit in ENERGY_UNITS


def registry_specs(
    hass: HomeAssistant, root_name: str, site_meters: Sequence[str]
) -> list[NodeSpec]:
    """Site -> floors -> areas with the power and energy sensors of each area's devices."""
    excluded = own_entity_ids(hass) | set(site_meters)
    devices = dr.async_get(hass).devices
    by_area: dict[str, list[str]] = defaultdict(list)
    for entry in er.async_get(hass).entities.values():
        if entry.entity_id in excluded or not _is_member_candidate(entry):
            continue
        area_id = entry.area_id
        if area_id is None and entry.device_id is not None:
            device = devices.get(entry.device_id)
            area_id = device.area_id if device is not None else None
        if area_id is not None:
            by_area[area_id].append(entry.entity_id)
    floors = sorted(fr.async_get(hass).async_list_floors(), key=lambda f: (f.level or 0, f.name))
    areas = [
        RegistryArea(
            area_id=area.id,
            name=area.name,
            floor_id=area.floor_id,
            members=tuple(sorted(by_area.get(area.id, ()))),
        )
        for area in ar.async_get(hass).async_list_areas()
    ]
    return registry_tree(root_name, [(f.floor_id, f.name) for f in floors], areas, site_meters)


def site_meters(data: dict[str, Any]) -> list[str]:
    """The site meter entities chosen in the flow."""
    return [eid for eid in (data.get(CONF_SITE_POWER), data.get(CONF_SITE_ENERGY)) if eid]


def explicit_specs(data: dict[str, Any]) -> list[NodeSpec]:
    """The explicit tree of the flow, with the site meters added to its root."""
    specs = parse_tree(data[CONF_TREE], data[CONF_NAME])
    root = specs[0]
    meters = tuple(m for m in site_meters(data) if m not in root.meters)
    specs[0] = NodeSpec(
        key=root.key,
        name=root.name,
        parent=None,
        members=root.members,
        meters=root.meters + meters,
    )
    return specs


@dataclass
class MqttStatus:
    """What the publisher last did, for diagnostics and log throttling."""

    paused: bool = False
    failing: bool = False
    tree_published: bool = False
    published: int = 0
    last_publish: datetime | None = None


def totals_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """The file under .storage that keeps an entry's energy totals across restarts."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.aggregation.{entry_id}")


class AggregationRuntime:
    """Owns the engine of one entry and connects it to Home Assistant."""

    def __init__(self, hass: HomeAssistant, entry: AggregationConfigEntry) -> None:
        self.hass = hass
        self.entry = entry
        self.data: dict[str, Any] = {**entry.data, **entry.options}
        self.aggregator = Aggregator(self._specs())
        self.entities: dict[str, list[NodeSensor]] = {}
        self.mqtt = MqttStatus()
        self.rebuilds = 0
        self._add_entities: Callable[[list[NodeSensor]], None] | None = None
        self._entity_factory: EntityFactory | None = None
        self._unsub_states: Callable[[], None] | None = None
        self._flush_handle: Any = None
        self._last_flush = -WRITE_INTERVAL
        self._last_save_request = -SAVE_DELAY
        self._closed = False
        self._store = totals_store(hass, entry.entry_id)
        self._rebuild_debouncer = Debouncer(
            hass,
            _LOGGER,
            cooldown=REBUILD_COOLDOWN,
            immediate=False,
            function=self.async_rebuild,
        )

    # -- set-up and tear-down

    @property
    def is_explicit(self) -> bool:
        """Whether the tree comes from the flow rather than the registries."""
        return bool(self.data.get(CONF_SOURCE) == SOURCE_EXPLICIT)

    def _specs(self) -> list[NodeSpec]:
        if self.is_explicit:
            return explicit_specs(self.data)
        return registry_specs(self.hass, self.data[CONF_NAME], site_meters(self.data))

    async def async_start(self) -> None:
        """Restore the totals, follow the members and the registries."""
        if (stored := await self._store.async_load()) is not None:
            self.aggregator.load(stored)
        self._track_members()
        self._feed_current_states()
        self.entry.async_on_unload(self._async_close)
        if not self.is_explicit:
            for event_type in _REGISTRY_EVENTS:
                self.entry.async_on_unload(
                    self.hass.bus.async_listen(event_type, self._on_registry_event)
                )
        if self.data.get(CONF_MQTT_PUBLISH):
            interval = int(self.data.get(CONF_MQTT_INTERVAL, DEFAULT_MQTT_INTERVAL))
            self.entry.async_on_unload(
                async_track_time_interval(
                    self.hass,
                    self._async_publish,
                    timedelta(seconds=interval),
                    cancel_on_shutdown=True,
                )
            )

    async def _async_close(self) -> None:
        self._closed = True
        self._rebuild_debouncer.async_cancel()
        if self._unsub_states is not None:
            self._unsub_states()
            self._unsub_states = None
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        await self._store.async_save(self.aggregator.dump())

    @callback
    def attach(
        self,
        add_entities: Callable[[list[NodeSensor]], None],
        factory: EntityFactory,
    ) -> None:
        """Called by the sensor platform: create the entities of every node."""
        self._add_entities, self._entity_factory = add_entities, factory
        self._sync_entities()

    def _sync_entities(self) -> None:
        assert self._add_entities is not None
        assert self._entity_factory is not None
        new: list[NodeSensor] = []
        for key in self.aggregator.nodes:
            if key not in self.entities:
                self.entities[key] = self._entity_factory(self, key)
                new.extend(self.entities[key])
            else:
                # A node whose meter came or went changes its set of entities.
                wanted = self._entity_factory(self, key)
                have = {entity.unique_id for entity in self.entities[key]}
                added = [entity for entity in wanted if entity.unique_id not in have]
                gone = {e.unique_id for e in self.entities[key]} - {e.unique_id for e in wanted}
                self._remove_entities([e for e in self.entities[key] if e.unique_id in gone])
                self.entities[key] = [
                    e for e in self.entities[key] if e.unique_id not in gone
                ] + added
                new.extend(added)
        for key in [key for key in self.entities if key not in self.aggregator.nodes]:
            self._remove_entities(self.entities.pop(key))
        if new:
            self._add_entities(new)

    def _remove_entities(self, entities: list[NodeSensor]) -> None:
        registry = er.async_get(self.hass)
        for entity in entities:
            if entity.registry_entry is not None:
                registry.async_remove(entity.entity_id)

    # -- members

    def _track_members(self) -> None:
        if self._unsub_states is not None:
            self._unsub_states()
        self._unsub_states = async_track_state_change_event(
            self.hass, list(self.aggregator.members), self._on_state_event
        )

    def _feed_current_states(self) -> None:
        for entity_id in self.aggregator.members:
            state = self.hass.states.get(entity_id)
            if state is not None:
                self.aggregator.update(
                    entity_id, state.state, state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
                )
        self._schedule_flush()

    @callback
    def _on_state_event(self, event: Event[EventStateChangedData]) -> None:
        state = event.data["new_state"]
        if state is None:
            self.aggregator.update(event.data["entity_id"], None, None)
        else:
            self.aggregator.update(
                state.entity_id, state.state, state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
            )
        if self._flush_handle is None:
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush_handle is not None or self._closed:
            return
        loop = self.hass.loop
        delay = max(0.0, self._last_flush + WRITE_INTERVAL - loop.time())
        self._flush_handle = loop.call_later(delay, self._flush)

    @callback
    def _flush(self) -> None:
        """Write the state of every node that changed since the last flush."""
        self._flush_handle = None
        loop = self.hass.loop
        self._last_flush = loop.time()
        for node in self.aggregator.take_dirty():
            for entity in self.entities.get(node.key, ()):
                entity.async_write_if_changed()
        if loop.time() - self._last_save_request >= SAVE_DELAY:
            self._last_save_request = loop.time()
            self._store.async_delay_save(self.aggregator.dump, SAVE_DELAY)

    # -- registries

    @callback
    def _on_registry_event(self, event: Event[Any]) -> None:
        if event.event_type == er.EVENT_ENTITY_REGISTRY_UPDATED:
            data = event.data
            if data["action"] == "update" and not _RELEVANT_ENTITY_CHANGES & set(
                data.get("changes", {})
            ):
                return
            registered = er.async_get(self.hass).async_get(data["entity_id"])
            if registered is not None and registered.config_entry_id == self.entry.entry_id:
                return  # our own entities come and go with the tree
        self._rebuild_debouncer.async_schedule_call()

    async def async_rebuild(self) -> None:
        """Follow the registries: rebuild the tree if its shape or membership changed."""
        if self._closed:
            return
        specs = self._specs()
        current = [
            NodeSpec(
                key=node.key,
                name=node.name,
                parent=node.parent.key if node.parent else None,
                members=tuple(node.own_members),
                meters=tuple(node.meters),
            )
            for node in self.aggregator.nodes.values()
        ]
        if specs == current:
            return
        self.rebuilds += 1
        _LOGGER.debug("Rebuilding the aggregation tree of %s", self.entry.title)
        self.aggregator.rebuild(specs)
        self._track_members()
        self._feed_current_states()
        if self._add_entities is not None:
            self._sync_entities()
        self.mqtt.tree_published = False

    # -- MQTT

    def _mqtt_connected(self) -> bool:
        if "mqtt" not in self.hass.config.components:
            return False
        from homeassistant.components import mqtt

        try:
            return mqtt.is_connected(self.hass)
        except KeyError:
            return False

    @property
    def mqtt_prefix(self) -> str:
        """The topic prefix, without a trailing slash."""
        return str(self.data.get(CONF_MQTT_PREFIX) or DEFAULT_MQTT_PREFIX).strip("/")

    async def _async_publish(self, now: datetime) -> None:
        if not self._mqtt_connected():
            if not self.mqtt.paused:
                _LOGGER.info("MQTT is not connected; %s pauses publishing", self.entry.title)
                self.mqtt.paused = True
            return
        if self.mqtt.paused:
            _LOGGER.info("MQTT is connected again; %s resumes publishing", self.entry.title)
            self.mqtt.paused = False
        from homeassistant.components import mqtt

        prefix = self.mqtt_prefix
        timestamp = dt_util.utcnow().isoformat(timespec="seconds")
        try:
            if not self.mqtt.tree_published:
                tree = {**self.aggregator.describe(), "timestamp": timestamp}
                await mqtt.async_publish(
                    self.hass,
                    f"{prefix}/{self.aggregator.root.slug}/tree",
                    json_dumps(tree),
                    qos=1,
                    retain=True,
                )
                self.mqtt.tree_published = True
            for suffix, payload in self.aggregator.payloads(timestamp):
                await mqtt.async_publish(self.hass, f"{prefix}/{suffix}", json_dumps(payload))
                self.mqtt.published += 1
        except HomeAssistantError as err:
            if not self.mqtt.failing:
                _LOGGER.warning("Publishing %s to MQTT failed: %s", self.entry.title, err)
                self.mqtt.failing = True
            return
        if self.mqtt.failing:
            _LOGGER.info("Publishing %s to MQTT works again", self.entry.title)
            self.mqtt.failing = False
        self.mqtt.last_publish = now
