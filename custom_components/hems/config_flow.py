"""Config flow: the ``user`` step is a menu of entry kinds.

Each kind brings its steps as a mixin from its own folder (``<kind>/config_flow.py``),
named ``async_step_<kind>`` for the menu and ``async_step_reconfigure_<kind>`` for
reconfiguration. Options flows come from the kind's ``Feature.options_flow``.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.core import callback

from .aggregation.config_flow import AggregationFlow
from .const import CONF_KIND, DOMAIN
from .features import FEATURES, AnyEntry, feature_for
from .loadpoint.config_flow import LoadpointFlow
from .sml.config_flow import SmlFlow
from .wallbox.config_flow import WallboxFlow


class HemsConfigFlow(
    SmlFlow, WallboxFlow, LoadpointFlow, AggregationFlow, ConfigFlow, domain=DOMAIN
):
    """One flow for every entry kind."""

    VERSION = 1
    MINOR_VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Offer the entry kinds."""
        return self.async_show_menu(step_id="user", menu_options=list(FEATURES))

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Hand reconfiguration over to the entry's kind."""
        kind = self._get_reconfigure_entry().data[CONF_KIND]
        step = getattr(self, f"async_step_reconfigure_{kind}", None)
        if step is None:
            return self.async_abort(reason="reconfigure_not_supported")
        result: ConfigFlowResult = await step()
        return result

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: AnyEntry) -> OptionsFlow:
        """Return the options flow of the entry's kind."""
        options_flow = feature_for(config_entry).options_flow
        assert options_flow is not None  # guarded by async_supports_options_flow
        return options_flow()

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: AnyEntry) -> bool:
        """Only kinds with settings beyond their setup have options."""
        return feature_for(config_entry).options_flow is not None
