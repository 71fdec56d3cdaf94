"""Config flow steps of the energy aggregation (a mixin of the integration's flow)."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
)
import voluptuous as vol

from custom_components.hems.const import CONF_KIND

from .const import (
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
    DEFAULT_NAME,
    KIND,
    SOURCE_EXPLICIT,
    SOURCE_REGISTRY,
)
from .engine import TreeError, parse_tree
from .runtime import own_entity_ids

_TREE_EXAMPLE = "Company/Office A/Room 1: sensor.printer_power, sensor.printer_energy"


class AggregationFlow(ConfigFlow):
    """Steps ``aggregation`` (settings), ``aggregation_tree`` and reconfiguration."""

    _aggregation: dict[str, Any]
    _aggregation_reconfiguring: bool = False

    async def async_step_aggregation(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Name, source of the hierarchy, site meters and MQTT publishing."""
        return await self._aggregation_settings("aggregation", user_input, {})

    async def async_step_reconfigure_aggregation(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change any setting of an existing aggregation."""
        self._aggregation_reconfiguring = True
        entry = self._get_reconfigure_entry()
        return await self._aggregation_settings(
            "reconfigure_aggregation", user_input, dict(entry.data)
        )

    async def _aggregation_settings(
        self, step_id: str, user_input: dict[str, Any] | None, current: dict[str, Any]
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {
                CONF_KIND: KIND,
                CONF_TREE: current.get(CONF_TREE, ""),
                CONF_MQTT_PREFIX: DEFAULT_MQTT_PREFIX,
                **user_input,
            }
            data[CONF_MQTT_INTERVAL] = int(data.get(CONF_MQTT_INTERVAL, DEFAULT_MQTT_INTERVAL))
            if user_input.get(CONF_MQTT_PUBLISH) and not self.hass.config_entries.async_entries(
                "mqtt", include_disabled=False
            ):
                errors["base"] = "aggregation_mqtt_missing"
            else:
                self._aggregation = data
                if data[CONF_SOURCE] == SOURCE_EXPLICIT:
                    return await self.async_step_aggregation_tree()
                return await self._aggregation_finish()
        defaults = {
            CONF_NAME: DEFAULT_NAME,
            CONF_SOURCE: SOURCE_REGISTRY,
            CONF_MQTT_PUBLISH: False,
            CONF_MQTT_PREFIX: DEFAULT_MQTT_PREFIX,
            CONF_MQTT_INTERVAL: DEFAULT_MQTT_INTERVAL,
            **current,
            **(user_input or {}),
        }
        own = sorted(own_entity_ids(self.hass))
        schema = vol.Schema(
            {
                vol.Required(CONF_NAME): TextSelector(),
                vol.Required(CONF_SOURCE): SelectSelector(
                    SelectSelectorConfig(
                        options=[SOURCE_REGISTRY, SOURCE_EXPLICIT],
                        translation_key="aggregation_source",
                        mode=SelectSelectorMode.LIST,
                    )
                ),
                vol.Optional(CONF_SITE_POWER): EntitySelector(
                    EntitySelectorConfig(
                        domain="sensor", device_class="power", exclude_entities=own
                    )
                ),
                vol.Optional(CONF_SITE_ENERGY): EntitySelector(
                    EntitySelectorConfig(
                        domain="sensor", device_class="energy", exclude_entities=own
                    )
                ),
                vol.Required(CONF_MQTT_PUBLISH): BooleanSelector(),
                vol.Optional(CONF_MQTT_PREFIX): TextSelector(),
                vol.Required(CONF_MQTT_INTERVAL): NumberSelector(
                    NumberSelectorConfig(
                        min=1,
                        max=3600,
                        step=1,
                        mode=NumberSelectorMode.BOX,
                        unit_of_measurement="s",
                    )
                ),
            }
        )
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, defaults),
            errors=errors,
        )

    async def async_step_aggregation_tree(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The explicit tree: one ``path: members`` or ``path = meters`` line per node."""
        errors: dict[str, str] = {}
        placeholders = {"example": _TREE_EXAMPLE, "line": "", "entity": "", "other": ""}
        if user_input is not None:
            text = user_input[CONF_TREE]
            self._aggregation[CONF_TREE] = text
            try:
                specs = parse_tree(text, self._aggregation[CONF_NAME])
            except TreeError as err:
                errors["base"] = f"aggregation_tree_{err.code}"
                placeholders.update(line=str(err.line), entity=err.entity, other=str(err.other))
            else:
                problem = self._aggregation_check_entities(
                    [eid for spec in specs for eid in (*spec.members, *spec.meters)]
                )
                if problem is None:
                    return await self._aggregation_finish()
                errors["base"], entity = problem
                line = next((n for n, row in enumerate(text.splitlines(), 1) if entity in row), 0)
                placeholders.update(line=str(line), entity=entity)
        schema = vol.Schema(
            {vol.Required(CONF_TREE): TextSelector(TextSelectorConfig(multiline=True))}
        )
        return self.async_show_form(
            step_id="aggregation_tree",
            data_schema=self.add_suggested_values_to_schema(
                schema, {CONF_TREE: self._aggregation.get(CONF_TREE, "")}
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _aggregation_check_entities(self, entity_ids: list[str]) -> tuple[str, str] | None:
        own = own_entity_ids(self.hass)
        registry = er.async_get(self.hass)
        meters = {self._aggregation.get(CONF_SITE_POWER), self._aggregation.get(CONF_SITE_ENERGY)}
        for entity_id in entity_ids:
            if entity_id in own:
                return "aggregation_tree_own_entity", entity_id
            if self.hass.states.get(entity_id) is None and registry.async_get(entity_id) is None:
                return "aggregation_tree_unknown_entity", entity_id
            if entity_id in meters:
                return "aggregation_tree_site_meter", entity_id
        return None

    async def _aggregation_finish(self) -> ConfigFlowResult:
        data = self._aggregation
        if self._aggregation_reconfiguring:
            return self.async_update_reload_and_abort(
                self._get_reconfigure_entry(), title=data[CONF_NAME], data=data
            )
        self._async_abort_entries_match({CONF_KIND: KIND, CONF_NAME: data[CONF_NAME]})
        return self.async_create_entry(title=data[CONF_NAME], data=data)
