"""Diagnostics of an aggregation entry: the tree, the sums and the publisher's state."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant

from .runtime import AggregationConfigEntry


async def async_get_diagnostics(
    hass: HomeAssistant, entry: AggregationConfigEntry
) -> dict[str, Any]:
    """Return the tree with every node's values (entity ids are not secret)."""
    runtime = entry.runtime_data
    aggregator = runtime.aggregator
    return {
        "config": dict(entry.data),
        "tree": aggregator.describe(),
        "nodes": {
            key: {
                "power": node.power_value,
                "energy": round(node.energy, 6),
                "members": node.members,
                "reporting": node.reporting,
                "unavailable": sorted(node.unavailable),
                "unmeasured_power": node.unmeasured_power if node.has_meter else None,
                "unmeasured_energy": round(node.unmeasured_energy, 6) if node.has_meter else None,
            }
            for key, node in aggregator.nodes.items()
        },
        "rebuilds": runtime.rebuilds,
        "mqtt": {
            "paused": runtime.mqtt.paused,
            "failing": runtime.mqtt.failing,
            "tree_published": runtime.mqtt.tree_published,
            "published": runtime.mqtt.published,
        },
    }
