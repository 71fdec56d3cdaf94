"""The entry kinds of the hems integration and how the root dispatches to them.

Every feature lives in its own folder (``sml/``, ``wallbox/``, ...) and describes itself
with one :class:`Feature`. The root modules (``__init__.py``, the platform files,
``diagnostics.py``, ``config_flow.py``) only look the entry's kind up here and hand over.
Adding an entry kind means: a new folder with its ``FEATURE``, one line in ``FEATURES``
below, and its flow mixin in ``config_flow.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from homeassistant.config_entries import ConfigEntry, OptionsFlow
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_KIND

type AnyEntry = ConfigEntry[Any]
type PlatformSetup = Callable[
    [HomeAssistant, AnyEntry, AddConfigEntryEntitiesCallback], Awaitable[None]
]


@dataclass(frozen=True, kw_only=True)
class Feature:
    """What the root needs to know about one entry kind."""

    kind: str
    # Connect, fill ``entry.runtime_data`` and register cleanups with
    # ``entry.async_on_unload``; raise ConfigEntryNotReady / ConfigEntryError on failure.
    async_setup_entry: Callable[[HomeAssistant, AnyEntry], Awaitable[None]]
    platforms: Mapping[Platform, PlatformSetup] = field(default_factory=dict)
    async_get_diagnostics: Callable[[HomeAssistant, AnyEntry], Awaitable[dict[str, Any]]]
    # Integration-wide setup (actions), run once when HA loads the integration.
    async_setup: Callable[[HomeAssistant], Awaitable[None]] | None = None
    # Saved options reload the entry (the root registers the listener).
    options_flow: Callable[[], OptionsFlow] | None = None
    # Delete what the entry left behind (stored files) when the user removes it.
    async_remove_entry: Callable[[HomeAssistant, AnyEntry], Awaitable[None]] | None = None


def _features() -> dict[str, Feature]:
    # Imported here so that a feature module may import this one for the types.
    # One line per entry kind, in the order the config flow's menu offers them.
    from .aggregation import FEATURE as AGGREGATION
    from .loadpoint import FEATURE as LOADPOINT
    from .sml import FEATURE as SML
    from .wallbox import FEATURE as WALLBOX

    kinds: list[Feature] = [SML, WALLBOX, LOADPOINT, AGGREGATION]
    return {feature.kind: feature for feature in kinds}


FEATURES: Mapping[str, Feature] = _features()


def feature_for(entry: AnyEntry) -> Feature:
    """Return the feature that owns a config entry."""
    return FEATURES[entry.data[CONF_KIND]]


def platform_setup(platform: Platform) -> PlatformSetup:
    """Build a root platform's ``async_setup_entry`` that hands over to the feature."""

    async def async_setup_entry(
        hass: HomeAssistant, entry: AnyEntry, async_add_entities: AddConfigEntryEntitiesCallback
    ) -> None:
        setup = feature_for(entry).platforms.get(platform)
        if setup is not None:
            await setup(hass, entry, async_add_entities)

    return async_setup_entry
