"""Diagnostics for every entry kind (each feature redacts its own secrets)."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant

from .features import AnyEntry, feature_for


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: AnyEntry
) -> dict[str, Any]:
    """Return the feature's diagnostics for a config entry."""
    return await feature_for(entry).async_get_diagnostics(hass, entry)
