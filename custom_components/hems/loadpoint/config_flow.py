"""Config and options flow of the PV-surplus loadpoint.

Step ``loadpoint`` picks the site's meters, step ``loadpoint_charger`` the charger's
entities (any integration's). The options flow holds the controller's settings.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_NAME
from homeassistant.helpers import selector
import voluptuous as vol

from custom_components.hems.const import CONF_KIND

from .const import (
    BATTERY_CHARGE_POSITIVE,
    BATTERY_DISCHARGE_POSITIVE,
    CONF_BATTERY_POWER,
    CONF_BATTERY_SIGN,
    CONF_BATTERY_SOC,
    CONF_CHARGER_CHARGING,
    CONF_CHARGER_CONNECTED,
    CONF_CHARGER_CURRENT,
    CONF_CHARGER_ENABLE,
    CONF_CHARGER_PHASES,
    CONF_CHARGER_POWER,
    CONF_GRID_POWER,
    CONF_GRID_SIGN,
    CONF_PV_POWER,
    CONF_VEHICLE_SOC,
    DEFAULTS,
    GRID_EXPORT_POSITIVE,
    GRID_IMPORT_POSITIVE,
    KIND,
    OPT_BUFFER_SOC,
    OPT_BUFFER_START_SOC,
    OPT_COMMAND_INTERVAL,
    OPT_CURRENT_STEP,
    OPT_CYCLE_S,
    OPT_DISABLE_DELAY,
    OPT_DISABLE_THRESHOLD,
    OPT_ENABLE_DELAY,
    OPT_ENABLE_THRESHOLD,
    OPT_FOLLOW_TIMEOUT,
    OPT_FUSE_LIMIT,
    OPT_MAX_CURRENT,
    OPT_MIN_CURRENT,
    OPT_MIN_OFF_TIME,
    OPT_MIN_ON_TIME,
    OPT_MODE,
    OPT_PHASE_SWITCHING,
    OPT_PHASES_MAX,
    OPT_PRIORITY,
    OPT_PRIORITY_SOC,
    OPT_SMOOTHING,
    OPT_STALE_AFTER,
    OPT_VEHICLE_CAPACITY,
    OPT_VOLTAGE,
    OPTIONAL_SETTINGS,
)
from .controller import ChargeMode
from .coordinator import POWER_FACTORS

POWER_UNITS = {unit for unit in POWER_FACTORS if unit is not None}


def _entity(*domains: str, device_class: str | None = None) -> selector.EntitySelector:
    config = selector.EntitySelectorConfig(domain=list(domains))
    if device_class is not None:
        config["device_class"] = device_class
    return selector.EntitySelector(config)


def _choice(key: str, options: list[str]) -> selector.SelectSelector:
    return selector.SelectSelector(
        selector.SelectSelectorConfig(
            options=options, translation_key=key, mode=selector.SelectSelectorMode.DROPDOWN
        )
    )


POWER = _entity("sensor", device_class=SensorDeviceClass.POWER)
SITE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_NAME, default="Loadpoint"): selector.TextSelector(),
        vol.Required(CONF_GRID_POWER): POWER,
        vol.Required(CONF_GRID_SIGN, default=GRID_IMPORT_POSITIVE): _choice(
            "loadpoint_grid_sign", [GRID_IMPORT_POSITIVE, GRID_EXPORT_POSITIVE]
        ),
        vol.Optional(CONF_PV_POWER): POWER,
        vol.Optional(CONF_BATTERY_POWER): POWER,
        vol.Required(CONF_BATTERY_SIGN, default=BATTERY_DISCHARGE_POSITIVE): _choice(
            "loadpoint_battery_sign", [BATTERY_DISCHARGE_POSITIVE, BATTERY_CHARGE_POSITIVE]
        ),
        vol.Optional(CONF_BATTERY_SOC): _entity("sensor", device_class=SensorDeviceClass.BATTERY),
    }
)
CHARGER_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_CHARGER_ENABLE): _entity("switch", "input_boolean"),
        vol.Required(CONF_CHARGER_CURRENT): _entity("number", "input_number"),
        vol.Required(CONF_CHARGER_POWER): POWER,
        vol.Optional(CONF_CHARGER_PHASES): _entity(
            "select", "input_select", "switch", "input_boolean"
        ),
        vol.Optional(CONF_CHARGER_CONNECTED): _entity("binary_sensor", "input_boolean"),
        vol.Optional(CONF_CHARGER_CHARGING): _entity("binary_sensor", "input_boolean"),
        vol.Optional(CONF_VEHICLE_SOC): _entity("sensor", "number", "input_number"),
    }
)


def _number(
    low: float, high: float, step: float, unit: str | None = None
) -> selector.NumberSelector:
    config = selector.NumberSelectorConfig(
        min=low, max=high, step=step, mode=selector.NumberSelectorMode.BOX
    )
    if unit is not None:
        config["unit_of_measurement"] = unit
    return selector.NumberSelector(config)


SETTINGS: dict[str, Any] = {
    OPT_MODE: _choice("loadpoint_mode", [str(m) for m in ChargeMode]),
    OPT_PRIORITY: _number(0, 10, 1),
    OPT_CYCLE_S: _number(5, 300, 1, "s"),
    OPT_MIN_CURRENT: _number(1, 32, 0.1, "A"),
    OPT_MAX_CURRENT: _number(1, 63, 0.1, "A"),
    OPT_CURRENT_STEP: _number(0.1, 1, 0.1, "A"),
    OPT_PHASES_MAX: _choice("loadpoint_phases", ["1", "3"]),
    OPT_PHASE_SWITCHING: selector.BooleanSelector(),
    OPT_FUSE_LIMIT: _number(6, 250, 1, "A"),
    OPT_VOLTAGE: _number(100, 260, 1, "V"),
    OPT_PRIORITY_SOC: _number(0, 100, 1, "%"),
    OPT_BUFFER_SOC: _number(0, 100, 1, "%"),
    OPT_BUFFER_START_SOC: _number(0, 100, 1, "%"),
    OPT_ENABLE_THRESHOLD: _number(-10000, 10000, 10, "W"),
    OPT_DISABLE_THRESHOLD: _number(0, 10000, 10, "W"),
    OPT_ENABLE_DELAY: _number(0, 3600, 1, "s"),
    OPT_DISABLE_DELAY: _number(0, 3600, 1, "s"),
    OPT_MIN_ON_TIME: _number(0, 7200, 1, "s"),
    OPT_MIN_OFF_TIME: _number(0, 7200, 1, "s"),
    OPT_SMOOTHING: _number(0, 900, 1, "s"),
    OPT_STALE_AFTER: _number(10, 3600, 1, "s"),
    OPT_COMMAND_INTERVAL: _number(0, 300, 1, "s"),
    OPT_FOLLOW_TIMEOUT: _number(10, 3600, 1, "s"),
    OPT_VEHICLE_CAPACITY: _number(1, 250, 0.1, "kWh"),
}


def default_options() -> dict[str, Any]:
    """The settings of a new loadpoint."""
    options = dict(DEFAULTS)
    options[OPT_PHASES_MAX] = str(options[OPT_PHASES_MAX])
    return options


SETTINGS_SCHEMA = vol.Schema(
    {
        (vol.Optional(key) if key in OPTIONAL_SETTINGS else vol.Required(key)): sel
        for key, sel in SETTINGS.items()
    }
)


def validate_settings(user_input: dict[str, Any]) -> dict[str, str]:
    """Errors of a settings form, by field."""
    errors: dict[str, str] = {}
    if user_input[OPT_MIN_CURRENT] > user_input[OPT_MAX_CURRENT]:
        errors[OPT_MIN_CURRENT] = "loadpoint_min_above_max"
    return errors


class LoadpointFlow(ConfigFlow):
    """Steps of the loadpoint entry kind (mixed into the integration's flow)."""

    _loadpoint_site: dict[str, Any]

    def _power_errors(self, user_input: dict[str, Any], keys: tuple[str, ...]) -> dict[str, str]:
        errors: dict[str, str] = {}
        for key in keys:
            entity_id = user_input.get(key)
            if not entity_id:
                continue
            state = self.hass.states.get(entity_id)
            if state is None:
                errors[key] = "loadpoint_entity_not_found"
            elif state.attributes.get("unit_of_measurement") not in (None, *POWER_UNITS):
                errors[key] = "loadpoint_not_power"
        return errors

    def _loadpoint_current(self) -> dict[str, Any] | None:
        """What a reconfigured entry holds now (None for a new entry)."""
        if self.source != SOURCE_RECONFIGURE:
            return None
        entry = self._get_reconfigure_entry()
        return {CONF_NAME: entry.title, **entry.data}

    async def async_step_reconfigure_loadpoint(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the entities again; the settings stay."""
        return await self.async_step_loadpoint()

    async def async_step_loadpoint(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the site's meters: grid power (with its sign), PV, home battery."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = self._power_errors(
                user_input, (CONF_GRID_POWER, CONF_PV_POWER, CONF_BATTERY_POWER)
            )
            if not errors:
                self._loadpoint_site = user_input
                return await self.async_step_loadpoint_charger()
        return self.async_show_form(
            step_id="loadpoint",
            data_schema=self.add_suggested_values_to_schema(
                SITE_SCHEMA, user_input or self._loadpoint_current()
            ),
            errors=errors,
        )

    async def async_step_loadpoint_charger(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the charger's entities and, optionally, the vehicle's SoC."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = self._power_errors(user_input, (CONF_CHARGER_POWER,))
            for key in (CONF_CHARGER_ENABLE, CONF_CHARGER_CURRENT):
                if self.hass.states.get(user_input[key]) is None:
                    errors[key] = "loadpoint_entity_not_found"
            if not errors:
                unique_id = f"{KIND}_{user_input[CONF_CHARGER_ENABLE]}"
                await self.async_set_unique_id(unique_id)
                site = dict(self._loadpoint_site)
                title = site.pop(CONF_NAME)
                if self.source == SOURCE_RECONFIGURE:
                    entry = self._get_reconfigure_entry()
                    if unique_id != entry.unique_id:
                        self._abort_if_unique_id_configured()
                    return self.async_update_reload_and_abort(
                        entry,
                        unique_id=unique_id,
                        title=title,
                        data={CONF_KIND: KIND, **site, **user_input},
                    )
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=title,
                    data={CONF_KIND: KIND, **site, **user_input},
                    options=default_options(),
                )
        return self.async_show_form(
            step_id="loadpoint_charger",
            data_schema=self.add_suggested_values_to_schema(
                CHARGER_SCHEMA, user_input or self._loadpoint_current()
            ),
            errors=errors,
        )


class LoadpointOptionsFlow(OptionsFlow):
    """The controller's settings."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the settings (the step has a kind-specific id)."""
        return await self.async_step_loadpoint_settings()

    async def async_step_loadpoint_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Edit the settings."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_settings(user_input)
            if not errors:
                return self.async_create_entry(data=user_input)
        current = dict(self.config_entry.options) if user_input is None else user_input
        schema = self.add_suggested_values_to_schema(
            SETTINGS_SCHEMA, {**default_options(), **current}
        )
        return self.async_show_form(step_id="loadpoint_settings", data_schema=schema, errors=errors)
