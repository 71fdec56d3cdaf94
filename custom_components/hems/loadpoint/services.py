"""Actions of the loadpoint: ``hems.set_loadpoint_mode`` and ``hems.set_departure_plan``.

Both target loadpoints by ``config_entry_id`` and/or ``entity_id`` (any entity of a
loadpoint); a bad target raises a translated error.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, entity_registry as er
import voluptuous as vol

from custom_components.hems.const import CONF_KIND, DOMAIN

from .const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DEPARTURE,
    ATTR_MODE,
    ATTR_TARGET_SOC,
    KIND,
    SERVICE_SET_MODE,
    SERVICE_SET_PLAN,
)
from .controller import ChargeMode
from .coordinator import LoadpointCoordinator

TARGET: dict[vol.Marker, Any] = {
    vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    vol.Optional(ATTR_ENTITY_ID): cv.entity_ids,
}
SET_MODE_SCHEMA = vol.Schema(
    {**TARGET, vol.Required(ATTR_MODE): vol.In([str(m) for m in ChargeMode])}
)
SET_PLAN_SCHEMA = vol.Schema(
    {
        **TARGET,
        vol.Optional(ATTR_DEPARTURE): cv.time,
        vol.Optional(ATTR_TARGET_SOC): vol.All(vol.Coerce(float), vol.Range(min=0, max=100)),
    }
)


def _error(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def coordinators(hass: HomeAssistant, call: ServiceCall) -> list[LoadpointCoordinator]:
    """The loadpoints an action targets."""
    entry_ids: list[str] = []
    if ATTR_CONFIG_ENTRY_ID in call.data:
        entry_ids.append(call.data[ATTR_CONFIG_ENTRY_ID])
    registry = er.async_get(hass)
    for entity_id in call.data.get(ATTR_ENTITY_ID, []):
        entity = registry.async_get(entity_id)
        if entity is None or entity.config_entry_id is None:
            raise _error("loadpoint_not_a_loadpoint", target=entity_id)
        entry_ids.append(entity.config_entry_id)
    if not entry_ids:
        raise _error("loadpoint_no_target")
    found: list[LoadpointCoordinator] = []
    for entry_id in dict.fromkeys(entry_ids):
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN or entry.data.get(CONF_KIND) != KIND:
            raise _error("loadpoint_not_a_loadpoint", target=entry_id)
        if entry.state is not ConfigEntryState.LOADED:
            raise _error("loadpoint_not_loaded", target=entry.title)
        found.append(entry.runtime_data)
    return found


async def async_setup_services(hass: HomeAssistant) -> None:
    """Register the loadpoint actions (once, integration-wide)."""

    async def set_mode(call: ServiceCall) -> None:
        for coordinator in coordinators(hass, call):
            coordinator.set_mode(call.data[ATTR_MODE])

    async def set_plan(call: ServiceCall) -> None:
        for coordinator in coordinators(hass, call):
            coordinator.set_plan(call.data.get(ATTR_DEPARTURE), call.data.get(ATTR_TARGET_SOC))

    hass.services.async_register(DOMAIN, SERVICE_SET_MODE, set_mode, schema=SET_MODE_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_SET_PLAN, set_plan, schema=SET_PLAN_SCHEMA)
