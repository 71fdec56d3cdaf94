"""Config flow steps of the SML meter: pick a transport, test it, confirm the meter."""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
from serial.tools import list_ports  # type: ignore[import-untyped,unused-ignore]
import voluptuous as vol

from custom_components.hems.const import CONF_KIND

from .const import (
    CONF_BAUDRATE,
    CONF_CRC,
    CONF_DEVICE,
    CONF_SILENCE_TIMEOUT,
    CONF_THROTTLE,
    CONF_TRANSPORT,
    DEFAULT_SILENCE_TIMEOUT,
    DEFAULT_THROTTLE,
    KIND,
    TRANSPORT_SERIAL,
    TRANSPORT_TCP,
)
from .coordinator import target_from_data
from .engine import MeterFrame, manufacturer_name, meter_number
from .transport import (
    BAUDRATES,
    DEFAULT_BAUDRATE,
    DEFAULT_TCP_PORT,
    CannotConnectError,
    NoFrameError,
    probe,
)

_LOGGER = logging.getLogger(__name__)

_TRANSPORTS = ["sml_serial", "sml_tcp"]


def _serial_ports() -> list[str]:
    return sorted(port.device for port in list_ports.comports())


def describe_frame(frame: MeterFrame) -> str:
    """The values of a frame as a short markdown list for the confirm step."""
    lines = [
        f"- {key}: {reading.value:g} {reading.unit or ''}".rstrip()
        for key, reading in frame.readings.items()
    ]
    if frame.power is not None:
        lines.append(f"- power: {frame.power:g} W")
    return "\n".join(lines)


class SmlFlow(ConfigFlow):
    """The SML meter's steps, mixed into the integration's config flow."""

    _sml_data: dict[str, Any]
    _sml_frame: MeterFrame

    async def async_step_sml(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Serial port or network?"""
        return self.async_show_menu(step_id="sml", menu_options=_TRANSPORTS)

    async def async_step_reconfigure_sml(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change how the meter is reached."""
        return self.async_show_menu(step_id="reconfigure_sml", menu_options=_TRANSPORTS)

    def _sml_defaults(self) -> dict[str, Any]:
        if self.source == SOURCE_RECONFIGURE:
            return dict(self._get_reconfigure_entry().data)
        return {}

    async def async_step_sml_serial(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A serial IR head: pick a port or type its path."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {
                CONF_TRANSPORT: TRANSPORT_SERIAL,
                CONF_DEVICE: user_input[CONF_DEVICE],
                CONF_BAUDRATE: int(user_input[CONF_BAUDRATE]),
            }
            result = await self._sml_test(data, errors)
            if result is not None:
                return result
        defaults = user_input or self._sml_defaults()
        ports = await self.hass.async_add_executor_job(_serial_ports)
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_DEVICE, default=defaults.get(CONF_DEVICE, vol.UNDEFINED)
                ): SelectSelector(
                    SelectSelectorConfig(
                        options=ports, custom_value=True, mode=SelectSelectorMode.DROPDOWN
                    )
                ),
                vol.Required(
                    CONF_BAUDRATE, default=str(defaults.get(CONF_BAUDRATE, DEFAULT_BAUDRATE))
                ): SelectSelector(
                    SelectSelectorConfig(
                        options=[str(rate) for rate in BAUDRATES],
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                ),
            }
        )
        return self.async_show_form(step_id="sml_serial", data_schema=schema, errors=errors)

    async def async_step_sml_tcp(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A network IR head or ser2net: host and port of the raw stream."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {
                CONF_TRANSPORT: TRANSPORT_TCP,
                CONF_HOST: user_input[CONF_HOST].strip(),
                CONF_PORT: int(user_input[CONF_PORT]),
            }
            result = await self._sml_test(data, errors)
            if result is not None:
                return result
        defaults = user_input or self._sml_defaults()
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_HOST, default=defaults.get(CONF_HOST, vol.UNDEFINED)
                ): TextSelector(),
                vol.Required(
                    CONF_PORT, default=defaults.get(CONF_PORT, DEFAULT_TCP_PORT)
                ): NumberSelector(
                    NumberSelectorConfig(min=1, max=65535, mode=NumberSelectorMode.BOX)
                ),
            }
        )
        return self.async_show_form(step_id="sml_tcp", data_schema=schema, errors=errors)

    async def _sml_test(
        self, data: dict[str, Any], errors: dict[str, str]
    ) -> ConfigFlowResult | None:
        """Wait for a valid frame; None (with ``errors`` filled) when there is none."""
        try:
            frame, decoder = await probe(target_from_data(data))
        except CannotConnectError as err:
            _LOGGER.debug("SML connection test failed: %s", err)
            errors["base"] = "sml_cannot_connect"
            return None
        except NoFrameError as err:
            _LOGGER.debug("SML connection test failed: %s", err)
            errors["base"] = "sml_no_frame"
            return None
        if frame.server_id is None:
            errors["base"] = "sml_no_server_id"
            return None
        data[CONF_KIND] = KIND
        data[CONF_CRC] = decoder.crc
        await self.async_set_unique_id(frame.server_id)
        if self.source == SOURCE_RECONFIGURE:
            self._abort_if_unique_id_mismatch(reason="sml_wrong_meter")
            return self.async_update_reload_and_abort(self._get_reconfigure_entry(), data=data)
        self._abort_if_unique_id_configured()
        self._sml_data = data
        self._sml_frame = frame
        return await self.async_step_sml_confirm()

    async def async_step_sml_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show what the meter sent; create the entry."""
        frame = self._sml_frame
        manufacturer = manufacturer_name(frame.server_id) or "SML"
        serial = meter_number(frame.server_id) or ""
        if user_input is not None:
            return self.async_create_entry(title=f"{manufacturer} {serial}", data=self._sml_data)
        return self.async_show_form(
            step_id="sml_confirm",
            description_placeholders={
                "manufacturer": manufacturer,
                "serial": serial,
                "values": describe_frame(frame),
            },
        )


class SmlOptionsFlow(OptionsFlow):
    """Silence timeout and state write throttle."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Hand over to the SML step (step ids are shared by every entry kind)."""
        return await self.async_step_sml_options()

    async def async_step_sml_options(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The only step."""
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        options = self.config_entry.options
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_SILENCE_TIMEOUT,
                    default=options.get(CONF_SILENCE_TIMEOUT, DEFAULT_SILENCE_TIMEOUT),
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=5,
                        max=600,
                        step=1,
                        unit_of_measurement="s",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
                vol.Required(
                    CONF_THROTTLE, default=options.get(CONF_THROTTLE, DEFAULT_THROTTLE)
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=0,
                        max=60,
                        step=0.1,
                        unit_of_measurement="s",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
            }
        )
        return self.async_show_form(step_id="sml_options", data_schema=schema)
