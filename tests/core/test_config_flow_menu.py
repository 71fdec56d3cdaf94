"""The root config flow: a menu of the entry kinds."""

from __future__ import annotations

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.hems.const import DOMAIN
from custom_components.hems.features import FEATURES


async def test_user_step_is_a_menu_of_every_kind(hass: HomeAssistant) -> None:
    """The first step offers each entry kind the integration has."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == list(FEATURES)
