"""Two loadpoints on one grid meter share the surplus by priority."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hems.const import DOMAIN
from custom_components.hems.loadpoint.config_flow import default_options
from custom_components.hems.loadpoint.const import (
    CONF_CHARGER_CONNECTED,
    CONF_CHARGER_CURRENT,
    CONF_CHARGER_ENABLE,
    CONF_CHARGER_PHASES,
    CONF_CHARGER_POWER,
    CONF_VEHICLE_SOC,
    KIND,
    OPT_PHASES_MAX,
    OPT_PRIORITY,
)

from .conftest import (
    CHARGER2_POWER,
    CURRENT,
    CURRENT2,
    ENABLE,
    ENABLE2,
    ENTRY_DATA,
    EntryFactory,
)
from .sim import Site


async def test_two_loadpoints_share_the_surplus_by_priority(
    hass: HomeAssistant, setup_loadpoint: EntryFactory, freezer: FrozenDateTimeFactory
) -> None:
    """The higher priority starts first; the other gets what is left, not the same watts."""
    first = await setup_loadpoint(**{OPT_PHASES_MAX: "1", OPT_PRIORITY: 0})
    second = MockConfigEntry(
        domain=DOMAIN,
        title="Carport",
        data={
            **{
                k: v
                for k, v in ENTRY_DATA.items()
                if k not in (CONF_CHARGER_PHASES, CONF_CHARGER_CONNECTED, CONF_VEHICLE_SOC)
            },
            CONF_CHARGER_ENABLE: ENABLE2,
            CONF_CHARGER_CURRENT: CURRENT2,
            CONF_CHARGER_POWER: CHARGER2_POWER,
        },
        options={**default_options(), OPT_PHASES_MAX: "1", OPT_PRIORITY: 5},
        unique_id=f"{KIND}_{ENABLE2}",
    )
    second.add_to_hass(hass)
    assert await hass.config_entries.async_setup(second.entry_id)
    await hass.async_block_till_done()
    assert len(first.runtime_data.peers()) == 2

    site = Site(hass, freezer, pv_w=3500.0)  # 3 kW surplus: room for one car only
    await site.run(300)
    assert hass.states.get(ENABLE2).state == "on"  # priority 5 first
    assert hass.states.get(ENABLE).state == "off"
    assert float(hass.states.get(CURRENT2).state) == 13.0  # 3000 W / 230 V
    assert site.grid_w() <= 0
    assert first.runtime_data.history[-1]["loadpoints_on_site"] == 2

    site.pv_w = 8000.0  # 7.5 kW: both charge, the second at its max
    await site.run(300)
    assert hass.states.get(ENABLE).state == "on"
    assert float(hass.states.get(CURRENT2).state) == 16.0
    assert 6.0 <= float(hass.states.get(CURRENT).state) <= 16.0
    assert site.grid_w() <= 0

    # The leader goes away: the other loadpoint runs its own cycle.
    leader, other = sorted((first, second), key=lambda e: e.entry_id)
    assert await hass.config_entries.async_unload(leader.entry_id)
    count = len(other.runtime_data.history)
    await site.run(60)
    assert len(other.runtime_data.history) == count + 2
    assert other.runtime_data.history[-1]["loadpoints_on_site"] == 1
