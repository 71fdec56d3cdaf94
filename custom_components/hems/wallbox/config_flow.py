"""Config flow steps of the wallbox entry kind: reads the state register before creating."""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_SCAN_INTERVAL
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
import voluptuous as vol

from custom_components.hems.const import CONF_KIND

from . import const
from .const import (
    CONF_PROFILE,
    CONF_UNIT_ID,
    DEFAULT_SCAN_INTERVAL,
    KIND,
    MAX_SCAN_INTERVAL,
    MIN_SCAN_INTERVAL,
)
from .driver import (
    WallboxConnectionError,
    WallboxDriver,
    WallboxError,
    WallboxProtocolError,
    WallboxTimeoutError,
)
from .profile import PROFILES

_LOGGER = logging.getLogger(__name__)


def _schema(defaults: dict[str, Any]) -> vol.Schema:
    unit = defaults.get(CONF_UNIT_ID)
    return vol.Schema(
        {
            vol.Required(CONF_PROFILE, default=defaults.get(CONF_PROFILE, "phoenix")): (
                SelectSelector(
                    SelectSelectorConfig(
                        options=list(PROFILES),
                        translation_key="wallbox_profile",
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                )
            ),
            vol.Required(CONF_HOST, default=defaults.get(CONF_HOST, "")): TextSelector(),
            vol.Required(CONF_PORT, default=defaults.get(CONF_PORT, 502)): vol.All(
                vol.Coerce(int), vol.Range(min=1, max=65535)
            ),
            vol.Optional(
                CONF_UNIT_ID, description={"suggested_value": unit} if unit is not None else None
            ): vol.All(vol.Coerce(int), vol.Range(min=0, max=255)),
        }
    )


async def probe(host: str, port: int, profile_key: str, unit_id: int) -> str | None:
    """Read the state register once; return a config-flow error key or None if fine."""
    driver = WallboxDriver(
        PROFILES[profile_key], host, port=port, unit_id=unit_id, timeout=const.PROBE_TIMEOUT
    )
    try:
        state = await driver.read_state()
    except WallboxConnectionError:
        return "wallbox_cannot_connect"
    except WallboxTimeoutError:
        return "wallbox_no_answer"
    except WallboxProtocolError:
        return "wallbox_wrong_profile"
    except WallboxError:  # pragma: no cover - every subclass is handled above
        _LOGGER.exception("Unexpected wallbox error")
        return "unknown"
    finally:
        driver.close()
    if state is None:
        return "wallbox_wrong_profile"
    return None


class WallboxFlow(ConfigFlow):
    """The steps that add (and reconfigure) a wallbox."""

    async def _wallbox_checked(
        self, user_input: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        profile = PROFILES[user_input[CONF_PROFILE]]
        data = {
            CONF_KIND: KIND,
            CONF_PROFILE: user_input[CONF_PROFILE],
            CONF_HOST: user_input[CONF_HOST].strip(),
            CONF_PORT: int(user_input[CONF_PORT]),
            CONF_UNIT_ID: int(user_input.get(CONF_UNIT_ID, profile.unit_id)),
        }
        errors: dict[str, str] = {}
        if error := await probe(
            data[CONF_HOST], data[CONF_PORT], data[CONF_PROFILE], data[CONF_UNIT_ID]
        ):
            errors["base"] = error
        return data, errors

    @staticmethod
    def _wallbox_unique_id(data: dict[str, Any]) -> str:
        return f"wallbox_{data[CONF_HOST]}:{data[CONF_PORT]}:{data[CONF_UNIT_ID]}"

    async def async_step_wallbox(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the wallbox's address and profile, then read its state."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = await self._wallbox_checked(user_input)
            if not errors:
                await self.async_set_unique_id(self._wallbox_unique_id(data))
                self._abort_if_unique_id_configured()
                profile = PROFILES[data[CONF_PROFILE]]
                return self.async_create_entry(
                    title=f"{profile.manufacturer} {profile.model} ({data[CONF_HOST]})",
                    data=data,
                    options={CONF_SCAN_INTERVAL: DEFAULT_SCAN_INTERVAL},
                )
        return self.async_show_form(
            step_id="wallbox", data_schema=_schema(user_input or {}), errors=errors
        )

    async def async_step_reconfigure_wallbox(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change address, profile or unit id of a configured wallbox."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = await self._wallbox_checked(user_input)
            if not errors:
                await self.async_set_unique_id(self._wallbox_unique_id(data))
                self._abort_if_unique_id_mismatch(reason="wallbox_other_device")
                return self.async_update_reload_and_abort(entry, data=data)
        return self.async_show_form(
            step_id="reconfigure_wallbox",
            data_schema=_schema(user_input or dict(entry.data)),
            errors=errors,
        )


class WallboxOptionsFlow(OptionsFlow):
    """The polling interval."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the polling interval."""
        if user_input is not None:
            return self.async_create_entry(
                data={CONF_SCAN_INTERVAL: int(user_input[CONF_SCAN_INTERVAL])}
            )
        current = self.config_entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
        return self.async_show_form(
            step_id="init",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_SCAN_INTERVAL, default=current): NumberSelector(
                        NumberSelectorConfig(
                            min=MIN_SCAN_INTERVAL,
                            max=MAX_SCAN_INTERVAL,
                            step=1,
                            unit_of_measurement="s",
                            mode=NumberSelectorMode.BOX,
                        )
                    )
                }
            ),
        )
