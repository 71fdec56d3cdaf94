"""The SML config flow against real peers: a TCP meter and a pseudo-terminal."""

from __future__ import annotations

import asyncio
from pathlib import Path

from homeassistant import config_entries
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hems.const import CONF_KIND, DOMAIN
from custom_components.hems.sml.const import (
    CONF_BAUDRATE,
    CONF_CRC,
    CONF_DEVICE,
    CONF_SILENCE_TIMEOUT,
    CONF_THROTTLE,
    CONF_TRANSPORT,
)

from .conftest import EASYMETER, EASYMETER_ID, ISKRA_ID, PtyMeter, StartServer


async def _start(hass: HomeAssistant, transport: str) -> FlowResult:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "sml"}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["sml_serial", "sml_tcp"]
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": transport}
    )


async def _unload_all(hass: HomeAssistant) -> None:
    for entry in hass.config_entries.async_entries(DOMAIN):
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_tcp_flow_shows_the_meter_and_creates_the_entry(
    hass: HomeAssistant, meter_server: StartServer
) -> None:
    """Host and port, a frame within the test window, the confirm step, the entry."""
    server = await meter_server(EASYMETER)
    result = await _start(hass, "sml_tcp")
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "sml_tcp"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: " 127.0.0.1 ", CONF_PORT: server.port}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "sml_confirm"
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert placeholders["manufacturer"] == "EasyMeter"
    assert placeholders["serial"] == "1ESY1162232997"
    assert "- 16.7.0:" in placeholders["values"]
    assert "- power:" in placeholders["values"]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "EasyMeter 1ESY1162232997"
    assert result["data"] == {
        CONF_KIND: "sml",
        CONF_TRANSPORT: "tcp",
        CONF_HOST: "127.0.0.1",
        CONF_PORT: server.port,
        CONF_CRC: "x25",
    }
    entry = result["result"]
    assert entry.unique_id == EASYMETER_ID
    assert entry.state is config_entries.ConfigEntryState.LOADED
    await _unload_all(hass)


async def test_serial_flow_on_a_pseudo_terminal(hass: HomeAssistant, pty_meter: PtyMeter) -> None:
    """Serial port typed as a path (not in the list), 9600 baud."""
    pty_meter.start()
    result = await _start(hass, "sml_serial")
    assert result["step_id"] == "sml_serial"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE: pty_meter.path, CONF_BAUDRATE: "9600"}
    )
    assert result["step_id"] == "sml_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_KIND: "sml",
        CONF_TRANSPORT: "serial",
        CONF_DEVICE: pty_meter.path,
        CONF_BAUDRATE: 9600,
        CONF_CRC: "x25",
    }
    assert result["result"].unique_id == ISKRA_ID
    await _unload_all(hass)


async def test_cannot_connect(hass: HomeAssistant, meter_server: StartServer) -> None:
    """A closed port: the form comes back with an error and the input kept."""
    server = await meter_server()
    port = server.port
    await server.close()
    result = await _start(hass, "sml_tcp")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: port}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "sml_cannot_connect"}


async def test_serial_port_that_does_not_exist(hass: HomeAssistant, tmp_path: Path) -> None:
    """A typed path that is no serial port."""
    result = await _start(hass, "sml_serial")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE: str(tmp_path / "ttyUSB9"), CONF_BAUDRATE: "9600"}
    )
    assert result["errors"] == {"base": "sml_cannot_connect"}


@pytest.mark.usefixtures("socket_enabled")
async def test_no_valid_frame(hass: HomeAssistant) -> None:
    """A peer that sends a corrupt dump and hangs up: no valid frame."""
    from .conftest import corpus_dir

    garbage = (corpus_dir() / "EMH_eHZ-IW8E2A5L0EK2P_with_error.bin").read_bytes()

    async def send_and_hang_up(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(garbage)
        await writer.drain()
        writer.close()

    peer = await asyncio.start_server(send_and_hang_up, "127.0.0.1", 0)
    port = peer.sockets[0].getsockname()[1]
    result = await _start(hass, "sml_tcp")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: port}
    )
    peer.close()
    await peer.wait_closed()
    assert result["errors"] == {"base": "sml_no_frame"}


async def test_already_configured(hass: HomeAssistant, meter_server: StartServer) -> None:
    """One entry per meter (server id)."""
    MockConfigEntry(domain=DOMAIN, unique_id=EASYMETER_ID, data={CONF_KIND: "sml"}).add_to_hass(
        hass
    )
    server = await meter_server(EASYMETER)
    result = await _start(hass, "sml_tcp")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: server.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def _configured(hass: HomeAssistant, port: int) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=ISKRA_ID,
        title="Iskraemeco 1ISK0067362659",
        data={
            CONF_KIND: "sml",
            CONF_TRANSPORT: "tcp",
            CONF_HOST: "127.0.0.1",
            CONF_PORT: port,
            CONF_CRC: "x25",
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_reconfigure_moves_the_meter_to_a_serial_port(
    hass: HomeAssistant, meter_server: StartServer, pty_meter: PtyMeter
) -> None:
    """Same meter, new transport: the entry is updated and reloaded."""
    server = await meter_server()
    entry = await _configured(hass, server.port)
    pty_meter.start()
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "reconfigure_sml"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "sml_serial"}
    )
    assert result["step_id"] == "sml_serial"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE: pty_meter.path, CONF_BAUDRATE: "9600"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_TRANSPORT] == "serial"
    assert entry.data[CONF_DEVICE] == pty_meter.path
    assert entry.state is config_entries.ConfigEntryState.LOADED
    await _unload_all(hass)


async def test_reconfigure_to_another_meter_is_refused(
    hass: HomeAssistant, meter_server: StartServer
) -> None:
    """A different server id aborts; the entry keeps its transport."""
    server = await meter_server()
    entry = await _configured(hass, server.port)
    other = await meter_server(EASYMETER)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "sml_tcp"}
    )
    assert result["step_id"] == "sml_tcp"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: other.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "sml_wrong_meter"
    assert entry.data[CONF_PORT] == server.port
    await _unload_all(hass)


async def test_options_flow(hass: HomeAssistant, meter_server: StartServer) -> None:
    """Silence timeout and throttle; the entry reloads with them."""
    server = await meter_server()
    entry = await _configured(hass, server.port)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "sml_options"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SILENCE_TIMEOUT: 60, CONF_THROTTLE: 5}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_SILENCE_TIMEOUT: 60, CONF_THROTTLE: 5}
    settings = entry.runtime_data.settings
    assert (settings.silence_timeout, settings.throttle) == (60.0, 5.0)
    await _unload_all(hass)


@pytest.mark.usefixtures("socket_enabled")
async def test_serial_ports_are_offered(hass: HomeAssistant) -> None:
    """The serial form lists the ports the system reports (possibly none here)."""
    from serial.tools import list_ports

    result = await _start(hass, "sml_serial")
    schema = result["data_schema"]
    assert schema is not None
    selector = schema.schema[CONF_DEVICE]
    offered = selector.config["options"]
    assert offered == sorted(port.device for port in list_ports.comports())
    assert selector.config["custom_value"] is True


async def test_meter_without_server_id(hass: HomeAssistant, socket_enabled: None) -> None:
    """A meter that does not say who it is cannot get an entry."""
    from custom_components.hems.sml.simulate import (
        MeterServer,
        SimulatedMeter,
        template_from_dump,
    )

    from .conftest import ISKRA

    _, entries = template_from_dump(ISKRA.read_bytes())
    meter = SimulatedMeter(b"", [entry for entry in entries if entry.unit is not None])
    server = MeterServer(meter, interval=0.02)
    port = await server.start()
    try:
        result = await _start(hass, "sml_tcp")
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: port}
        )
    finally:
        await server.close()
    assert result["errors"] == {"base": "sml_no_server_id"}
