"""The generic driver against simulated wallboxes on 127.0.0.1 (real Modbus TCP)."""

from __future__ import annotations

import logging
import socket

import pytest

from custom_components.hems.wallbox.driver import (
    EnergyTracker,
    WallboxConnectionError,
    WallboxDriver,
    WallboxProtocolError,
    WallboxStatus,
    WallboxTimeoutError,
    WallboxWriteRefusedError,
)
from custom_components.hems.wallbox.profile import PROFILES, parse_profile

from .conftest import StartBox
from .simulator import FakeClock
from .test_profile import minimal

BRANDS = ["phoenix", "abb", "alfen"]


def driver_for(brand: str, port: int, **kwargs: float) -> WallboxDriver:
    return WallboxDriver(PROFILES[brand], "127.0.0.1", port=port, timeout=1.0, **kwargs)


@pytest.mark.parametrize("brand", BRANDS)
async def test_status_follows_the_car(boxes: StartBox, brand: str) -> None:
    """No car, plugged in and charging, fault: state, power, currents, energy."""
    box = await boxes(brand)
    driver = driver_for(brand, box.port)
    try:
        status = await driver.read_status()
        assert status.state == "A"
        assert status.plugged is False
        assert status.power_w == 0
        assert status.enabled is True
        assert status.current_limit_a == 16

        box.sim.plug_in()
        status = await driver.read_status()
        assert status.state == "C"
        assert status.charging is True
        assert status.power_w == pytest.approx(16 * 230 * 3)
        assert status.currents_a == {
            1: pytest.approx(16),
            2: pytest.approx(16),
            3: pytest.approx(16),
        }
        assert status.energy_session_wh == pytest.approx(0, abs=1)

        box.sim.energy_wh += 500  # half a kWh later
        status = await driver.read_status()
        assert status.energy_session_wh == pytest.approx(500, abs=1)
        if "energy_total" in PROFILES[brand].registers:
            assert status.energy_total_wh == pytest.approx(1500, abs=1)

        box.sim.set_fault(True)
        status = await driver.read_status()
        assert status.state == "F"
        assert status.as_json()["state"] == "F"
        # One poll is exactly the planned number of requests.
        reads_before = len(box.box.reads)
        await driver.read_status()
        assert len(box.box.reads) - reads_before == len(driver.plan)
    finally:
        driver.close()


@pytest.mark.parametrize("brand", BRANDS)
async def test_commands_are_clamped_and_read_back(boxes: StartBox, brand: str) -> None:
    """The box charges at the commanded current, never outside the profile's limits."""
    box = await boxes(brand)
    box.sim.plug_in()
    driver = driver_for(brand, box.port)
    try:
        await driver.read_status()
        assert await driver.set_current(10) == 10
        status = await driver.read_status()
        assert box.sim.setpoint_a == pytest.approx(10)
        assert status.current_limit_a == pytest.approx(10)
        assert status.power_w == pytest.approx(10 * 230 * 3)

        assert await driver.set_current(80) == PROFILES[brand].current.max
        assert box.sim.setpoint_a == pytest.approx(PROFILES[brand].current.max)
        assert await driver.set_current(1) == 6
        assert box.sim.setpoint_a == pytest.approx(6)

        await driver.set_enabled(False)
        status = await driver.read_status()
        assert status.enabled is False
        assert status.state == "B"
        assert status.power_w == 0
        assert status.current_limit_a == pytest.approx(6)  # what it will charge at again

        await driver.set_current(12)  # while paused: remembered, not charging
        assert (await driver.read_status()).state == "B"
        await driver.set_enabled(True)
        status = await driver.read_status()
        assert status.state == "C"
        assert status.power_w == pytest.approx(12 * 230 * 3)
    finally:
        driver.close()


async def test_only_writable_registers_are_written(boxes: StartBox) -> None:
    """ABB cannot switch phases: the driver refuses instead of writing."""
    box = await boxes("abb")
    driver = driver_for("abb", box.port)
    with pytest.raises(WallboxWriteRefusedError):
        await driver.set_phases(1)
    assert box.box.writes == []
    driver.close()


async def test_alfen_phases(boxes: StartBox) -> None:
    """Alfen switches between 1 and 3 phases; other counts are refused."""
    box = await boxes("alfen")
    box.sim.plug_in()
    driver = driver_for("alfen", box.port)
    try:
        await driver.set_phases(1)
        status = await driver.read_status()
        assert status.phases == 1
        assert status.power_w == pytest.approx(16 * 230)
        assert status.as_json()["phases"] == 1
        with pytest.raises(WallboxWriteRefusedError):
            await driver.set_phases(2)
    finally:
        driver.close()


async def test_alfen_heartbeat_keeps_the_setpoint(boxes: StartBox) -> None:
    """Without rewrites Alfen falls back to its safe current; the heartbeat prevents it."""
    clock = FakeClock()
    box = await boxes("alfen", clock=clock)
    box.sim.plug_in()
    driver = WallboxDriver(PROFILES["alfen"], "127.0.0.1", port=box.port, clock=clock)
    try:
        await driver.set_current(16)
        clock.tick(26)
        assert (await driver.read_status()).currents_a[1] == pytest.approx(6)  # fallen back
        assert await driver.heartbeat() is True
        assert (await driver.read_status()).currents_a[1] == pytest.approx(16)
        for _ in range(4):
            clock.tick(15)
            await driver.heartbeat()
            assert (await driver.read_status()).currents_a[1] == pytest.approx(16)
        assert driver.seconds_since_setpoint_write() == 0
        assert box.sim.fallbacks == 1
    finally:
        driver.close()
    phoenix = driver_for("phoenix", box.port)
    assert await phoenix.heartbeat() is False  # no heartbeat in that profile
    assert phoenix.seconds_since_setpoint_write() is None


async def test_heartbeat_while_paused_writes_zero(boxes: StartBox) -> None:
    """A paused Alfen gets 0 A rewritten, not the remembered current."""
    box = await boxes("alfen")
    driver = driver_for("alfen", box.port)
    try:
        await driver.set_current(10)
        await driver.set_enabled(False)
        await driver.heartbeat()
        assert box.sim.setpoint_a == 0
    finally:
        driver.close()


async def test_heartbeat_before_anything_is_known(boxes: StartBox) -> None:
    """A heartbeat before the first poll writes the profile's minimum, the safe choice."""
    box = await boxes("alfen")
    driver = driver_for("alfen", box.port)
    try:
        assert await driver.heartbeat() is True
        assert box.sim.setpoint_a == 6
    finally:
        driver.close()


async def test_read_only_register_is_never_written(boxes: StartBox) -> None:
    """A phases register the profile marks read-only is not written, even if asked."""
    box = await boxes("alfen")
    profile = parse_profile(
        "ro",
        minimal(
            phases=[1, 3],
            registers={
                "state": {"address": 1201, "type": "string", "count": 5},
                "current_setpoint": {"address": 1210, "type": "float32", "access": "rw"},
                "phases": {"address": 1215},
            },
        ),
    )
    assert not profile.can_switch_phases
    driver = WallboxDriver(profile, "127.0.0.1", port=box.port)
    with pytest.raises(WallboxWriteRefusedError, match="does not allow writing 'phases'"):
        await driver.set_phases(1)
    assert box.box.writes == []
    assert (await driver.read_status()).phases == 3
    driver.close()


async def test_wrong_unit_id_times_out(boxes: StartBox) -> None:
    """Unknown unit ids get no answer: a timeout error, quickly."""
    box = await boxes("phoenix")
    driver = WallboxDriver(PROFILES["phoenix"], "127.0.0.1", port=box.port, unit_id=1, timeout=0.3)
    with pytest.raises(WallboxTimeoutError, match="unit 1"):
        await driver.read_state()
    assert not driver.connected


async def test_wrong_profile_is_refused(boxes: StartBox) -> None:
    """Reading Phoenix's registers from an ABB box gets a Modbus exception."""
    box = await boxes("abb")
    driver = WallboxDriver(PROFILES["phoenix"], "127.0.0.1", port=box.port, unit_id=1)
    with pytest.raises(WallboxProtocolError, match="Modbus exception"):
        await driver.read_state()
    driver.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_connection_refused(socket_enabled: None) -> None:
    """Nothing listening: a connection error."""
    driver = driver_for("abb", free_port())
    with pytest.raises(WallboxConnectionError, match="cannot connect"):
        await driver.read_status()


async def test_reconnects_after_the_box_restarts(boxes: StartBox) -> None:
    """A box that goes away and comes back is read again on the next call."""
    box = await boxes("phoenix")
    driver = driver_for("phoenix", box.port)
    try:
        await driver.read_status()
        assert driver.connected
        await box.stop()
        with pytest.raises((WallboxConnectionError, WallboxTimeoutError)):
            await driver.read_status()
        with pytest.raises(WallboxConnectionError):
            await driver.read_status()
        again = await boxes("phoenix", port=box.port)
        again.sim.plug_in()
        assert (await driver.read_status()).state == "C"
    finally:
        driver.close()


def test_energy_never_runs_backwards(caplog: pytest.LogCaptureFixture) -> None:
    """A lower total keeps the last value and logs once; session starts at plug-in."""
    tracker = EnergyTracker()
    readings = [(1000.0, "A"), (1000.0, "B"), (1200.0, "C"), (0.0, "C"), (5.0, "C"), (1300.0, "A")]
    seen = []
    for total, state in readings:
        status = WallboxStatus(state=state, energy_total_wh=total)
        tracker.update(status)
        seen.append((status.energy_total_wh, status.energy_session_wh))
    assert seen == [
        (1000.0, None),
        (1000.0, 0.0),
        (1200.0, 200.0),
        (1200.0, 200.0),
        (1200.0, 200.0),
        (1300.0, 300.0),
    ]
    assert tracker.backwards_readings == 2
    assert len([r for r in caplog.records if "went backwards" in r.message]) == 1
    # The next plug-in starts a new session.
    status = WallboxStatus(state="B", energy_total_wh=1300.0)
    tracker.update(status)
    assert status.energy_session_wh == 0.0


def test_session_register_is_used_as_is() -> None:
    """A box with a session register keeps its own session figure."""
    tracker = EnergyTracker()
    status = WallboxStatus(state="C", energy_total_wh=100.0, energy_session_wh=42.0)
    tracker.update(status)
    assert status.energy_session_wh == 42.0


async def test_coil_and_string_profiles(boxes: StartBox, caplog: pytest.LogCaptureFixture) -> None:
    """A profile with an enable coil; clamping is logged at debug level."""
    box = await boxes("phoenix")
    profile = parse_profile(
        "odd",
        minimal(
            unit_id=255,
            registers={
                "state": {"table": "input", "address": 100, "states": {65: "A", 67: "C"}},
                "enable": {"table": "coil", "address": 400, "access": "rw"},
                "current_setpoint": {"address": 528, "access": "rw"},
            },
        ),
    )
    caplog.set_level(logging.DEBUG)
    driver = WallboxDriver(profile, "127.0.0.1", port=box.port, timeout=1.0)
    try:
        status = await driver.read_status()
        assert status.state == "A"
        assert status.enabled is True
        await driver.set_current(100)
        assert box.sim.setpoint_a == 16
        assert "Clamped 100 A to 16.0 A" in caplog.text
    finally:
        driver.close()
