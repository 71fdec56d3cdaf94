"""Diagnostics of a wallbox entry, with the host redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant

from .coordinator import WallboxConfigEntry
from .driver import describe_plan

TO_REDACT = {CONF_HOST, "title", "unique_id"}


async def async_get_diagnostics(hass: HomeAssistant, entry: WallboxConfigEntry) -> dict[str, Any]:
    """What a bug report needs: profile, read plan, last readings, health."""
    coordinator = entry.runtime_data
    driver = coordinator.driver
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "profile": {
            "key": driver.profile.key,
            "manufacturer": driver.profile.manufacturer,
            "model": driver.profile.model,
            "unit_id": driver.unit_id,
        },
        "read_plan": describe_plan(driver.plan),
        "requests_per_poll": len(driver.plan),
        "last_update_success": coordinator.last_update_success,
        "consecutive_failures": coordinator.failures,
        "energy_backwards_readings": driver.energy.backwards_readings,
        "status": coordinator.data.as_dict() if coordinator.data else None,
    }
