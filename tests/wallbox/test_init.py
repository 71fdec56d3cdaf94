"""Wallbox entries in a real Home Assistant, against simulated wallboxes on 127.0.0.1."""

from __future__ import annotations

from datetime import timedelta
import logging

from homeassistant.components.number import (
    ATTR_VALUE,
    DOMAIN as NUMBER_DOMAIN,
    SERVICE_SET_VALUE,
)
from homeassistant.components.select import (
    ATTR_OPTION,
    DOMAIN as SELECT_DOMAIN,
    SERVICE_SELECT_OPTION,
)
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.hems.const import DOMAIN
from custom_components.hems.diagnostics import async_get_config_entry_diagnostics

from .conftest import AddEntry, StartBox
from .simulator import FakeClock
from .test_driver import free_port


def entity_id(hass: HomeAssistant, entry: MockConfigEntry, platform: str, key: str) -> str:
    """The entity id of one of the entry's entities, by its key."""
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{entry.entry_id}_{key}")
    assert found is not None, f"no {platform} {key}"
    return found


def state(hass: HomeAssistant, entity: str) -> str:
    current = hass.states.get(entity)
    assert current is not None
    return current.state


async def advance(hass: HomeAssistant, clock: FakeClock, seconds: float) -> None:
    """Let HA time pass by ``seconds`` (timers due by then fire) and the boxes' clock too."""
    clock.tick(seconds)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
    # Polls run as background tasks; wait for them so that the next time jump does not
    # fire the timeout of a request still in flight.
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_alfen_heartbeat_through_home_assistant(
    hass: HomeAssistant, boxes: StartBox, add_entry: AddEntry, sim_clock: FakeClock
) -> None:
    """A minute and a half of HA time: the setpoint is rewritten, Alfen never falls back."""
    box = await boxes("alfen")
    box.sim.plug_in()
    entry = await add_entry("alfen", box)
    power = entity_id(hass, entry, "sensor", "power")
    assert float(state(hass, power)) == pytest.approx(16 * 230 * 3)
    for _ in range(6):
        await advance(hass, sim_clock, 15)
        assert not box.sim.falling_back
    assert box.sim.fallbacks == 0
    assert float(state(hass, power)) == pytest.approx(16 * 230 * 3)
    setpoint_writes = [w for w in box.box.writes if w[1] == 1210]
    assert len(setpoint_writes) == 6  # one per 15 s


@pytest.mark.parametrize(
    ("brand", "currents", "session_only"),
    [("phoenix", True, False), ("abb", True, True), ("alfen", True, False)],
)
async def test_entities_follow_the_car(
    hass: HomeAssistant,
    boxes: StartBox,
    add_entry: AddEntry,
    sim_clock: FakeClock,
    brand: str,
    currents: bool,
    session_only: bool,
) -> None:
    """Plug in, charge, fault: every entity shows it; one device from the profile."""
    box = await boxes(brand)
    entry = await add_entry(brand, box)
    assert entry.state is ConfigEntryState.LOADED
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, entry.entry_id)})
    assert device is not None
    assert (
        device.manufacturer == {"phoenix": "Phoenix Contact", "abb": "ABB", "alfen": "Alfen"}[brand]
    )

    iec = entity_id(hass, entry, "sensor", "state")
    plugged = entity_id(hass, entry, "binary_sensor", "plugged")
    charging = entity_id(hass, entry, "binary_sensor", "charging")
    fault = entity_id(hass, entry, "binary_sensor", "fault")
    power = entity_id(hass, entry, "sensor", "power")
    session = entity_id(hass, entry, "sensor", "energy_session")
    assert state(hass, iec) == "a"
    assert state(hass, plugged) == STATE_OFF
    assert state(hass, charging) == STATE_OFF
    sensor_state = hass.states.get(iec)
    assert sensor_state is not None
    assert sensor_state.attributes["options"] == ["a", "b", "c", "d", "e", "f"]

    box.sim.plug_in()
    await advance(hass, sim_clock, 5)
    assert state(hass, iec) == "c"
    assert state(hass, plugged) == STATE_ON
    assert state(hass, charging) == STATE_ON
    assert float(state(hass, power)) == pytest.approx(16 * 230 * 3)
    current_l1 = hass.states.get(entity_id(hass, entry, "sensor", "current_l1"))
    assert current_l1 is not None
    assert float(current_l1.state) == pytest.approx(16)
    assert current_l1.attributes["friendly_name"] == f"{brand} wallbox Current L1"

    box.sim.energy_wh += 16 * 230 * 3  # as if an hour at 11 kW had passed
    await advance(hass, sim_clock, 5)
    # Energy is shown in kWh (the suggested unit).
    assert float(state(hass, session)) == pytest.approx(16 * 230 * 3 / 1000, rel=0.01)
    if session_only:
        assert (
            er.async_get(hass).async_get_entity_id(
                "sensor", DOMAIN, f"{entry.entry_id}_energy_total"
            )
            is None
        )
    else:
        total = entity_id(hass, entry, "sensor", "energy_total")
        assert float(state(hass, total)) == pytest.approx((1000 + 16 * 230 * 3) / 1000, rel=0.01)
        total_state = hass.states.get(total)
        assert total_state is not None
        assert total_state.attributes["state_class"] == "total_increasing"

    box.sim.set_fault(True)
    await advance(hass, sim_clock, 5)
    assert state(hass, iec) == "f"
    assert state(hass, fault) == STATE_ON
    assert state(hass, charging) == STATE_OFF


@pytest.mark.parametrize("brand", ["phoenix", "abb", "alfen"])
async def test_commands_from_home_assistant(
    hass: HomeAssistant, boxes: StartBox, add_entry: AddEntry, brand: str
) -> None:
    """Current, enable/disable (and phases on Alfen) reach the box and read back."""
    box = await boxes(brand)
    box.sim.plug_in()
    entry = await add_entry(brand, box)
    number = entity_id(hass, entry, "number", "current_limit")
    switch = entity_id(hass, entry, "switch", "charging_enabled")
    power = entity_id(hass, entry, "sensor", "power")
    limits = hass.states.get(number)
    assert limits is not None
    assert limits.attributes["min"] == 6
    assert limits.attributes["max"] == 32

    await hass.services.async_call(
        NUMBER_DOMAIN, SERVICE_SET_VALUE, {ATTR_ENTITY_ID: number, ATTR_VALUE: 10}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert box.sim.setpoint_a == pytest.approx(10)
    assert float(state(hass, number)) == pytest.approx(10)
    assert float(state(hass, power)) == pytest.approx(10 * 230 * 3)

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: switch}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state(hass, switch) == STATE_OFF
    assert float(state(hass, power)) == 0
    assert box.sim.state == "B"
    assert float(state(hass, number)) == pytest.approx(10)  # remembered for later

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: switch}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state(hass, switch) == STATE_ON
    assert box.sim.state == "C"
    assert float(state(hass, power)) == pytest.approx(10 * 230 * 3)

    registry = er.async_get(hass)
    phases = registry.async_get_entity_id("select", DOMAIN, f"{entry.entry_id}_phases")
    if brand != "alfen":
        assert phases is None
        return
    assert phases is not None
    assert state(hass, phases) == "3"
    await hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: phases, ATTR_OPTION: "1"},
        blocking=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert box.sim.phases == 1
    assert state(hass, phases) == "1"
    assert float(state(hass, power)) == pytest.approx(10 * 230)


async def test_unavailable_backoff_and_recovery(
    hass: HomeAssistant,
    boxes: StartBox,
    add_entry: AddEntry,
    sim_clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A silent box: entities unavailable, polls back off, one log line, then recovery."""
    box = await boxes("phoenix")
    entry = await add_entry("phoenix", box)
    coordinator = entry.runtime_data
    power = entity_id(hass, entry, "sensor", "power")
    assert float(state(hass, power)) == 0
    await box.stop()
    caplog.clear()

    intervals = []
    for _ in range(5):
        assert coordinator.update_interval is not None
        await advance(hass, sim_clock, coordinator.update_interval.total_seconds() + 1)
        intervals.append(coordinator.update_interval.total_seconds())
    assert state(hass, power) == STATE_UNAVAILABLE
    assert state(hass, entity_id(hass, entry, "switch", "charging_enabled")) == STATE_UNAVAILABLE
    assert intervals == [10, 20, 40, 80, 160]
    ours = [r for r in caplog.records if r.name.startswith("custom_components.hems")]
    assert len([r for r in ours if r.levelno >= logging.WARNING]) == 1
    assert "does not answer" in ours[0].getMessage()
    # pymodbus's own "Failed to connect" warnings are kept out: one line per outage in all.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        ours[0].getMessage()
    ]

    again = await boxes("phoenix", port=box.port)
    again.sim.plug_in()
    await advance(hass, sim_clock, 161)
    assert float(state(hass, power)) == pytest.approx(16 * 230 * 3)
    assert coordinator.update_interval is not None
    assert coordinator.update_interval.total_seconds() == 5
    assert "recovered" in caplog.text


async def test_command_to_a_silent_box(
    hass: HomeAssistant, boxes: StartBox, add_entry: AddEntry
) -> None:
    """A command the box does not take fails with a clear, translated error."""
    box = await boxes("abb")
    entry = await add_entry("abb", box)
    await box.stop()
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            NUMBER_DOMAIN,
            SERVICE_SET_VALUE,
            {ATTR_ENTITY_ID: entity_id(hass, entry, "number", "current_limit"), ATTR_VALUE: 8},
            blocking=True,
        )
    assert err.value.translation_key == "wallbox_write_failed"
    assert err.value.translation_domain == DOMAIN


async def test_heartbeat_failure_is_quiet(
    hass: HomeAssistant,
    boxes: StartBox,
    add_entry: AddEntry,
    sim_clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failing heartbeat does not log on its own (the poll reports the outage)."""
    box = await boxes("alfen")
    await add_entry("alfen", box)
    await box.stop()
    caplog.clear()
    caplog.set_level(logging.DEBUG, logger="custom_components.hems.wallbox")
    await advance(hass, sim_clock, 15)
    heartbeat = [r for r in caplog.records if "heartbeat failed" in r.getMessage()]
    assert heartbeat
    assert all(r.levelno == logging.DEBUG for r in heartbeat)


async def test_not_ready_while_the_box_is_away(hass: HomeAssistant, socket_enabled: None) -> None:
    """A box that does not answer at start-up: the entry retries later."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={
            "kind": "wallbox",
            "profile": "abb",
            "host": "127.0.0.1",
            "port": free_port(),
            "unit_id": 1,
        },
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_unknown_profile(hass: HomeAssistant) -> None:
    """An entry naming a profile that no longer ships fails with a clear error."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={"kind": "wallbox", "profile": "gone", "host": "h", "port": 502, "unit_id": 1},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason is not None
    assert "gone" in entry.reason


async def test_diagnostics(
    hass: HomeAssistant, boxes: StartBox, add_entry: AddEntry, snapshot: SnapshotAssertion
) -> None:
    """Diagnostics show profile, read plan and readings, never the host."""
    box = await boxes("phoenix")
    entry = await add_entry("phoenix", box)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert "127.0.0.1" not in str(diagnostics)
    assert diagnostics == snapshot(exclude=props("entry_id", "created_at", "modified_at", "port"))
