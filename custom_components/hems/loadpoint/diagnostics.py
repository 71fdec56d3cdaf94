"""Diagnostics of a loadpoint: settings, state and the last 100 decisions with inputs."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.core import HomeAssistant

from .coordinator import LoadpointConfigEntry


async def async_get_diagnostics(hass: HomeAssistant, entry: LoadpointConfigEntry) -> dict[str, Any]:
    """Return what helps to understand the loadpoint's decisions.

    Nothing secret is stored: the entry holds entity ids and numbers only.
    """
    coordinator = entry.runtime_data
    controller = coordinator.controller
    return {
        "entry": {"title": entry.title, "data": dict(entry.data), "options": dict(entry.options)},
        "settings": {
            "site": asdict(coordinator.site.settings),
            "loadpoint": asdict(controller.settings),
        },
        "state": {
            "departure": None if coordinator.departure is None else str(coordinator.departure),
            "target_soc": coordinator.target_soc,
            "session_energy_kwh": round(coordinator.session_energy_kwh, 4),
            "session_solar_share": coordinator.session_solar_share,
            "not_following": coordinator.not_following,
            "charger": {
                entity_id: asdict(drive) for entity_id, drive in coordinator.drives.items()
            },
        },
        "decisions": list(coordinator.history),
    }
