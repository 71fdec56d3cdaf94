"""End to end: real peers (TCP meter, pseudo-terminal), set up through the config flow."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from homeassistant import config_entries
from homeassistant.const import CONF_HOST, CONF_PORT, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from syrupy.assertion import SnapshotAssertion

from custom_components.hems.const import CONF_KIND, DOMAIN
from custom_components.hems.sml.const import (
    CONF_BAUDRATE,
    CONF_CRC,
    CONF_DEVICE,
    CONF_THROTTLE,
    CONF_TRANSPORT,
)
from custom_components.hems.sml.simulate import MeterServer, SimulatedMeter, template_from_dump

from .conftest import (
    EASYMETER,
    EASYMETER_ID,
    FIXTURES,
    ISKRA,
    ISKRA_ID,
    PtyMeter,
    StartPeer,
    StartServer,
    entity_id,
    wait_for_state,
)


def _available(state: object) -> bool:
    return getattr(state, "state", None) != STATE_UNAVAILABLE


def _unavailable(state: object) -> bool:
    return getattr(state, "state", None) == STATE_UNAVAILABLE


async def _flow(hass: HomeAssistant, transport: str, user_input: dict[str, object]) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    for step in ("sml", transport):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": step}
        )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert result["type"] == "create_entry"
    return str(result["result"].entry_id)


def _tick(hass: HomeAssistant, seconds: float) -> None:
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))


async def test_tcp_meter_end_to_end(
    hass: HomeAssistant, meter_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    """EasyMeter over TCP: entities from its OBIS values, lost and back again."""
    server = await meter_server(EASYMETER, interval=0.2)
    entry_id = await _flow(hass, "sml_tcp", {CONF_HOST: "127.0.0.1", CONF_PORT: server.port})

    energy = hass.states.get(entity_id(hass, EASYMETER_ID, "1.8.0"))
    assert energy is not None
    assert energy.attributes["state_class"] == "total_increasing"
    assert energy.attributes["device_class"] == "energy"
    assert energy.attributes["unit_of_measurement"] == "kWh"
    assert 2941.6 < float(energy.state) < 2941.7
    power = hass.states.get(entity_id(hass, EASYMETER_ID, "power"))
    assert power is not None
    assert power.attributes["unit_of_measurement"] == "W"
    grid_import = hass.states.get(entity_id(hass, EASYMETER_ID, "grid_import_power"))
    grid_export = hass.states.get(entity_id(hass, EASYMETER_ID, "grid_export_power"))
    assert grid_import is not None
    assert grid_export is not None
    assert float(grid_import.state) == float(power.state) > 0
    assert float(grid_export.state) == 0
    voltage = hass.states.get(entity_id(hass, EASYMETER_ID, "32.7.0"))
    assert voltage is not None
    assert voltage.attributes["unit_of_measurement"] == "V"
    # Only what the meter sends: no current, no frequency, no tariffs.
    registry = er.async_get(hass)
    keys = {
        e.unique_id.split("_", 1)[1] for e in er.async_entries_for_config_entry(registry, entry_id)
    }
    assert keys == {
        "1.8.0", "2.8.0", "power", "grid_import_power", "grid_export_power",
        "36.7.0", "56.7.0", "76.7.0", "32.7.0", "52.7.0", "72.7.0", "crc_errors",
    }  # fmt: skip
    crc = registry.async_get(entity_id(hass, EASYMETER_ID, "crc_errors"))
    assert crc is not None
    assert crc.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, EASYMETER_ID)})
    assert device is not None
    assert (device.manufacturer, device.serial_number) == ("EasyMeter", "1ESY1162232997")

    # The meter goes away: unavailable after the silence.
    power_id = entity_id(hass, EASYMETER_ID, "power")
    port = server.port
    await server.close()
    _tick(hass, 31)
    await wait_for_state(hass, power_id, _unavailable)
    _tick(hass, 61)
    await hass.async_block_till_done()
    assert hass.states.get(entity_id(hass, EASYMETER_ID, "1.8.0")).state == STATE_UNAVAILABLE  # type: ignore[union-attr]

    # It comes back on the same port: available with the next good frame.
    await meter_server(EASYMETER, interval=0.2, port=port)
    _tick(hass, 200)
    state = await wait_for_state(hass, power_id, _available)
    assert float(state.state) > 0
    assert len([r for r in caplog.records if "Lost the SML meter" in r.getMessage()]) == 1
    assert len([r for r in caplog.records if "connected again" in r.getMessage()]) == 1
    assert len([r for r in caplog.records if "sending valid frames again" in r.getMessage()]) == 1
    assert await hass.config_entries.async_unload(entry_id)


async def test_serial_meter_end_to_end(hass: HomeAssistant, pty_meter: PtyMeter) -> None:
    """Iskra on a pseudo-terminal: set up, silent, sending again."""
    pty_meter.start()
    entry_id = await _flow(hass, "sml_serial", {CONF_DEVICE: pty_meter.path, CONF_BAUDRATE: "9600"})
    power_id = entity_id(hass, ISKRA_ID, "power")
    state = hass.states.get(power_id)
    assert state is not None
    assert float(state.state) > 0
    phase = hass.states.get(entity_id(hass, ISKRA_ID, "36.7.0"))
    assert phase is not None
    assert phase.attributes["device_class"] == "power"

    await pty_meter.stop()
    _tick(hass, 31)
    await wait_for_state(hass, power_id, _unavailable)
    pty_meter.start()
    _tick(hass, 100)
    await wait_for_state(hass, power_id, _available)
    assert await hass.config_entries.async_unload(entry_id)


async def test_state_writes_are_throttled(hass: HomeAssistant, socket_enabled: None) -> None:
    """With a long throttle, frames update the meter state but not the entities until the
    interval is over; then the latest value is written."""
    server_id, entries = template_from_dump(ISKRA.read_bytes())
    meter = SimulatedMeter(server_id, entries)
    server = MeterServer(meter, interval=0.02)
    port = await server.start()
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=ISKRA_ID,
        data={
            CONF_KIND: "sml",
            CONF_TRANSPORT: "tcp",
            CONF_HOST: "127.0.0.1",
            CONF_PORT: port,
            CONF_CRC: "x25",
        },
        options={CONF_THROTTLE: 3600},
    )
    entry.add_to_hass(hass)
    try:
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        coordinator = entry.runtime_data
        power_id = entity_id(hass, ISKRA_ID, "power")
        first = hass.states.get(power_id)
        assert first is not None
        seen = coordinator.decoder.valid_frames
        async with asyncio.timeout(20):
            while coordinator.decoder.valid_frames < seen + 5:  # noqa: ASYNC110  # no event to wait on
                await asyncio.sleep(0.02)
        assert hass.states.get(power_id) == first  # nothing written meanwhile
        assert coordinator.state.power != float(first.state)
        _tick(hass, 3601)
        await hass.async_block_till_done()
        latest = hass.states.get(power_id)
        assert latest is not None
        assert latest.state != first.state
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await server.close()


async def _entry(hass: HomeAssistant, port: int, unique_id: str = ISKRA_ID) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=unique_id,
        title="DZG Metering 1DZG0042082910",
        data={CONF_KIND: "sml", CONF_TRANSPORT: "tcp", CONF_HOST: "127.0.0.1", CONF_PORT: port},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_setup_retries_when_the_meter_cannot_be_reached(
    hass: HomeAssistant, meter_server: StartServer
) -> None:
    """A closed port: setup is retried later."""
    server = await meter_server()
    await server.close()
    entry = await _entry(hass, server.port)
    assert entry.state is config_entries.ConfigEntryState.SETUP_RETRY
    assert "Cannot reach the SML meter" in str(entry.reason)


async def test_setup_retries_without_a_frame(
    hass: HomeAssistant, one_shot_peer: StartPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connected but silent: setup is retried later (the wait is shortened here)."""
    monkeypatch.setattr("custom_components.hems.sml.coordinator.FIRST_FRAME_TIMEOUT", 0.2)
    port = await one_shot_peer(b"")
    entry = await _entry(hass, port)
    assert entry.state is config_entries.ConfigEntryState.SETUP_RETRY
    assert "No valid SML frame" in str(entry.reason)


async def test_dzg_meter_and_diagnostics(
    hass: HomeAssistant,
    one_shot_peer: StartPeer,
    hass_client: object,
    snapshot: SnapshotAssertion,
) -> None:
    """The DZG power fix reaches the entity; diagnostics redact the meter's serial."""
    from pytest_homeassistant_custom_component.components.diagnostics import (
        get_diagnostics_for_config_entry,
    )

    dzg_id = "0a01445a47000282225e"
    port = await one_shot_peer((FIXTURES / "DZG_DVS-7412.2_jmberg.bin").read_bytes())
    entry = await _entry(hass, port, dzg_id)
    assert entry.state is config_entries.ConfigEntryState.LOADED
    state = hass.states.get(entity_id(hass, dzg_id, "power"))
    assert state is not None
    assert state.state == "356.24"
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)  # type: ignore[arg-type]
    diagnostics["entry"]["data"]["port"] = "<port>"
    diagnostics["meter"]["target"] = "<target>"
    assert dzg_id not in str(diagnostics)
    assert diagnostics == snapshot
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_values_the_meter_starts_sending_later_get_entities(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """A value that appears in a later frame (e.g. after entering the PIN) gets a sensor."""
    from custom_components.hems.sml.simulate import Entry

    server_id, entries = template_from_dump(ISKRA.read_bytes())
    meter = SimulatedMeter(server_id, entries)

    class Growing:
        def next_frame(self) -> bytes:
            if meter.sequence == 5:
                meter.entries.append(Entry(bytes.fromhex("01000e0700ff"), None, 44, -1, 500))
            return meter.next_frame()

    server = MeterServer(Growing(), interval=0.02)  # type: ignore[arg-type]
    port = await server.start()
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=ISKRA_ID,
        title="Iskraemeco 1ISK0067362659",
        data={CONF_KIND: "sml", CONF_TRANSPORT: "tcp", CONF_HOST: "127.0.0.1", CONF_PORT: port},
        options={CONF_THROTTLE: 0},
    )
    entry.add_to_hass(hass)
    try:
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        state = await wait_for_state(
            hass, "sensor.iskraemeco_1isk0067362659_grid_frequency", _available
        )
        assert state.state == "50.0"
        assert entity_id(hass, ISKRA_ID, "14.7.0") == state.entity_id
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await server.close()
