"""Constants of the energy aggregation entry kind."""

from __future__ import annotations

from typing import Final

KIND: Final = "aggregation"

CONF_NAME: Final = "name"
CONF_SOURCE: Final = "source"
CONF_TREE: Final = "tree"
CONF_SITE_POWER: Final = "site_power"
CONF_SITE_ENERGY: Final = "site_energy"
CONF_MQTT_PUBLISH: Final = "mqtt_publish"
CONF_MQTT_PREFIX: Final = "mqtt_prefix"
CONF_MQTT_INTERVAL: Final = "mqtt_interval"

SOURCE_REGISTRY: Final = "registry"
SOURCE_EXPLICIT: Final = "explicit"

DEFAULT_NAME: Final = "Energy aggregation"
DEFAULT_MQTT_PREFIX: Final = "hems"
DEFAULT_MQTT_INTERVAL: Final = 10

# State writes of the node sensors are coalesced: at most one write per node per interval
# (the first change after a quiet interval is written on the next event-loop turn).
WRITE_INTERVAL: Final = 0.5
# Registry changes are gathered for this long before the tree is rebuilt.
REBUILD_COOLDOWN: Final = 1.0
# Energy totals and counters are saved at most this often (and on unload / shutdown).
SAVE_DELAY: Final = 60.0
STORAGE_VERSION: Final = 1

# Sensors from these integrations already aggregate other sensors: counting them as
# members of an area would count the same energy twice.
AGGREGATING_PLATFORMS: Final = frozenset(
    {"group", "utility_meter", "min_max", "statistics", "integration", "derivative", "filter"}
)
# The most entity ids listed in a node's ``unavailable_members`` attribute.
MAX_LISTED_UNAVAILABLE: Final = 50
