"""A wallbox over Modbus TCP, driven by the PV-surplus loadpoint: the loop closed end to end.

A simulated Phoenix Contact EV Charge Control (pymodbus's server on 127.0.0.1, from
``tests/wallbox/simulator.py``) is set up as a ``hems`` wallbox entry. A ``hems`` loadpoint
entry uses that entry's own entities as its charger: the charging-enabled switch, the
current-limit number, the power sensor, the plugged and charging binary sensors (the
Phoenix profile has no phase switch). The grid meter is a sensor the test writes each cycle
from the site: house load - PV + what the simulated box really draws. Time moves with the
freezer; the assertions read the box's registers, i.e. what the real wallbox would see.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
import math

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    CONF_HOST,
    CONF_PORT,
    CONF_SCAN_INTERVAL,
    STATE_OFF,
    STATE_ON,
)
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.hems.const import CONF_KIND, DOMAIN
from custom_components.hems.loadpoint.config_flow import default_options
from custom_components.hems.loadpoint.const import (
    CONF_CHARGER_CHARGING,
    CONF_CHARGER_CONNECTED,
    CONF_CHARGER_CURRENT,
    CONF_CHARGER_ENABLE,
    CONF_CHARGER_POWER,
    CONF_GRID_POWER,
    CONF_GRID_SIGN,
    GRID_IMPORT_POSITIVE,
    KIND as LOADPOINT,
    OPT_MAX_CURRENT,
    OPT_MIN_CURRENT,
    OPT_VOLTAGE,
)
from custom_components.hems.wallbox.const import CONF_PROFILE, CONF_UNIT_ID, KIND as WALLBOX
from tests.wallbox.simulator import RunningBox, start_box
from tests.wallbox.test_init import entity_id, state

BRAND = "phoenix"
GRID = "sensor.grid_power"
CYCLE_S = 30.0
# Phoenix Contact EV Charge Control: the enable coil and the current setpoint register.
ENABLE_COIL = 400
SETPOINT_REGISTER = 528
READ_COILS = 1
READ_HOLDING_REGISTERS = 3


@dataclass
class Site:
    """A house with PV, a grid meter and the simulated wallbox."""

    hass: HomeAssistant
    freezer: FrozenDateTimeFactory
    box: RunningBox
    pv_w: float = 0.0
    house_w: float = 500.0

    @property
    def surplus_w(self) -> float:
        return self.pv_w - self.house_w

    def grid_w(self) -> float:
        """Import positive: what the meter measures, the box's real draw included."""
        return self.house_w + self.box.sim.power_w - self.pv_w

    def write_meter(self) -> None:
        self.hass.states.async_set(
            GRID, f"{self.grid_w():.1f}", {"unit_of_measurement": "W", "device_class": "power"}
        )

    async def run(self, seconds: float) -> None:
        """Cycle by cycle: the meter reads the site, then HA's clock moves one cycle on.

        Each step waits for the polls and commands it started (real Modbus round trips on
        127.0.0.1), so no request is in flight when the clock jumps.
        """
        for _ in range(math.ceil(seconds / CYCLE_S)):
            self.write_meter()
            self.freezer.tick(timedelta(seconds=CYCLE_S))
            async_fire_time_changed(self.hass)
            await self.hass.async_block_till_done(wait_background_tasks=True)

    # --- what the wallbox sees in its registers
    def enabled_coil(self) -> int:
        return int(self.box.box.getValues(READ_COILS, ENABLE_COIL, 1)[0])

    def setpoint_register(self) -> int:
        return int(self.box.box.getValues(READ_HOLDING_REGISTERS, SETPOINT_REGISTER, 1)[0])

    def written(self, table: str, address: int) -> list[int]:
        """Values written to one register or coil, in order."""
        return [values[0] for t, a, values in self.box.box.writes if (t, a) == (table, address)]


def expected_current(surplus_w: float) -> int:
    """The surplus in whole amps on three phases, within the loadpoint's min/max current."""
    options = default_options()
    amps = math.floor(surplus_w / (float(options[OPT_VOLTAGE]) * 3))
    return int(max(float(options[OPT_MIN_CURRENT]), min(float(options[OPT_MAX_CURRENT]), amps)))


@pytest.fixture
async def site(
    hass: HomeAssistant, request: pytest.FixtureRequest, socket_enabled: None
) -> AsyncIterator[Site]:
    """A plugged-in car at a waiting Phoenix box, its wallbox entry and a loadpoint on it.

    The wallbox entry connects in real time (pymodbus's connect sleeps 0.1 s, which a
    frozen event loop would never finish); the clock is frozen after that. The connection
    stays open, so every later Modbus round trip needs no timer.
    """
    # The box's clock is HA's clock, so its energy counter moves with the freezer.
    box = await start_box(BRAND, clock=lambda: dt_util.utcnow().timestamp())
    box.sim.enabled = False  # the box waits for permission to charge
    box.sim.plug_in()

    wallbox = MockConfigEntry(
        domain=DOMAIN,
        title="Phoenix wallbox",
        unique_id=f"wallbox_127.0.0.1:{box.port}:{box.box.unit_id}",
        data={
            CONF_KIND: WALLBOX,
            CONF_PROFILE: BRAND,
            CONF_HOST: "127.0.0.1",
            CONF_PORT: box.port,
            CONF_UNIT_ID: box.box.unit_id,
        },
        options={CONF_SCAN_INTERVAL: 5},
    )
    wallbox.add_to_hass(hass)
    assert await hass.config_entries.async_setup(wallbox.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert wallbox.state is ConfigEntryState.LOADED

    freezer: FrozenDateTimeFactory = request.getfixturevalue("freezer")
    site = Site(hass, freezer, box)
    site.write_meter()
    switch = entity_id(hass, wallbox, "switch", "charging_enabled")
    loadpoint = MockConfigEntry(
        domain=DOMAIN,
        title="Garage",
        unique_id=f"{LOADPOINT}_{switch}",
        data={
            CONF_KIND: LOADPOINT,
            CONF_GRID_POWER: GRID,
            CONF_GRID_SIGN: GRID_IMPORT_POSITIVE,
            CONF_CHARGER_ENABLE: switch,
            CONF_CHARGER_CURRENT: entity_id(hass, wallbox, "number", "current_limit"),
            CONF_CHARGER_POWER: entity_id(hass, wallbox, "sensor", "power"),
            CONF_CHARGER_CONNECTED: entity_id(hass, wallbox, "binary_sensor", "plugged"),
            CONF_CHARGER_CHARGING: entity_id(hass, wallbox, "binary_sensor", "charging"),
        },
        options=default_options(),
    )
    loadpoint.add_to_hass(hass)
    assert await hass.config_entries.async_setup(loadpoint.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert loadpoint.state is ConfigEntryState.LOADED

    yield site

    for entry in (loadpoint, wallbox):
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await box.stop()


# A reconnect under the frozen clock would hang (pymodbus sleeps in connect): fail instead.
@pytest.mark.timeout(60)
async def test_surplus_drives_the_wallbox_registers(hass: HomeAssistant, site: Site) -> None:
    """Sun enables the box at the surplus current, less sun lowers it, clouds stop it."""
    wallbox = next(
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.data[CONF_KIND] == WALLBOX
    )
    switch = entity_id(hass, wallbox, "switch", "charging_enabled")
    plugged = entity_id(hass, wallbox, "binary_sensor", "plugged")
    assert state(hass, plugged) == STATE_ON

    # No sun: the box stays disabled.
    await site.run(2 * CYCLE_S)
    assert site.enabled_coil() == 0
    assert site.box.sim.state == "B"
    assert state(hass, switch) == STATE_OFF

    # 8.5 kW surplus: not at once (enable delay), then enabled at the surplus current.
    site.pv_w = 9000.0
    await site.run(CYCLE_S)
    assert site.enabled_coil() == 0
    await site.run(5 * 60)
    assert site.enabled_coil() == 1
    current = site.setpoint_register()
    assert current == expected_current(site.surplus_w) == 12
    assert site.box.sim.state == "C"
    assert site.box.sim.power_w == pytest.approx(current * 230 * 3)
    assert -230 * 3 < site.grid_w() <= 0  # uses the surplus, never imports for the car
    assert state(hass, switch) == STATE_ON
    assert site.written("c", ENABLE_COIL) == [1]  # enabled once, not toggled

    # Less sun: the setpoint follows the surplus down without stopping.
    site.pv_w = 6500.0
    await site.run(2 * CYCLE_S)
    assert site.enabled_coil() == 1
    assert site.setpoint_register() == expected_current(site.surplus_w) == 8
    assert site.box.sim.power_w == pytest.approx(8 * 230 * 3)
    assert site.grid_w() <= 0

    # Clouds: the box keeps charging for a while (delays, minimum on-time) ...
    site.pv_w = 0.0
    await site.run(CYCLE_S)
    assert site.enabled_coil() == 1
    assert site.setpoint_register() == expected_current(site.surplus_w) == 6  # the minimum
    # ... and is disabled in its registers well within 15 minutes.
    await site.run(15 * 60)
    assert site.enabled_coil() == 0
    assert site.written("c", ENABLE_COIL) == [1, 0]
    assert site.box.sim.state == "B"
    assert site.box.sim.power_w == 0
    assert site.grid_w() == pytest.approx(site.house_w)
    assert state(hass, switch) == STATE_OFF
    # The commanded setpoints went 12 A -> 8 A -> 6 A, never above the surplus at the time.
    setpoints = site.written("h", SETPOINT_REGISTER)
    assert setpoints[0] == 12
    assert 8 in setpoints
    assert setpoints[-1] == 6
    assert all(6 <= amps <= 12 for amps in setpoints)
    # One Modbus connection all along: no poll or command failed.
    coordinator = wallbox.runtime_data
    assert coordinator.last_update_success
    assert coordinator.failures == 0
    assert coordinator.driver.connected
