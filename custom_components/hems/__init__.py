"""HEMS: home energy management for Home Assistant.

One integration, several entry kinds (a smart meter, a wallbox, a PV-surplus loadpoint,
an energy aggregation, ...). Each kind lives in its own folder; ``features.py`` says which.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN
from .features import FEATURES, AnyEntry, feature_for

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration-wide actions of every feature."""
    for feature in FEATURES.values():
        if feature.async_setup is not None:
            await feature.async_setup(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: AnyEntry) -> bool:
    """Set up one entry of any kind."""
    feature = feature_for(entry)
    await feature.async_setup_entry(hass, entry)
    if feature.options_flow is not None:
        entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    await hass.config_entries.async_forward_entry_setups(entry, list(feature.platforms))
    return True


async def _async_options_updated(hass: HomeAssistant, entry: AnyEntry) -> None:
    """Saved options take effect by reloading the entry."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: AnyEntry) -> bool:
    """Unload an entry; the feature's cleanups run through ``entry.async_on_unload``."""
    return await hass.config_entries.async_unload_platforms(
        entry, list(feature_for(entry).platforms)
    )


async def async_remove_entry(hass: HomeAssistant, entry: AnyEntry) -> None:
    """Let the entry's feature delete what it stored."""
    feature = feature_for(entry)
    if feature.async_remove_entry is not None:
        await feature.async_remove_entry(hass, entry)
