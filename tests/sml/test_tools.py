"""The command line tools: sml-decode, the simulator, the benchmark; and the transports."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import struct

from homeassistant.core import HomeAssistant
import pytest
from smllib.sml_frame import SmlFrame

from custom_components.hems.sml import bench, cli, simulate
from custom_components.hems.sml.engine import SmlDecoder
from custom_components.hems.sml.simulate import (
    Entry,
    MeterServer,
    Replay,
    SimulatedMeter,
    encode_frame,
    octets,
    sml_list,
    template_from_dump,
    unsigned,
)
from custom_components.hems.sml.transport import (
    CannotConnectError,
    NoFrameError,
    SmlStream,
    TcpTarget,
    probe,
)

from .conftest import EASYMETER, FIXTURES, ISKRA, ISKRA_ID, PtyMeter, StartPeer, corpus_dir


def test_decode_file(capsys: pytest.CaptureFixture[str]) -> None:
    """One JSON object per valid frame; the summary on stderr."""
    assert cli.main([str(EASYMETER)]) == 0
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 4
    assert lines[-1]["server_id"] == "09014553591103b599a5"
    assert lines[-1]["manufacturer"] == "ESY"
    assert lines[-1]["readings"]["16.7.0"] == {"value": 687.86, "unit": "W"}
    assert "valid frames: 4, CRC errors: 3" in err


def test_decode_stdin_with_frame_limit(capsys: pytest.CaptureFixture[str]) -> None:
    """``-`` reads stdin; ``-n`` stops early."""
    assert cli.main(["-", "-n", "2"], stdin=io.BytesIO(ISKRA.read_bytes())) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 2
    assert "valid frames: 2" in err


def test_decode_without_frames_and_bad_sources(capsys: pytest.CaptureFixture[str]) -> None:
    """No valid frame: exit 1; unreadable source or bad URL: exit 2 with a message."""
    assert cli.main([str(corpus_dir() / "DZG_DVS-7420.2V.G2_mtr1_error.bin")]) == 1
    assert cli.main(["/nonexistent/dump.bin"]) == 2
    assert cli.main(["tcp://127.0.0.1"]) == 2
    err = capsys.readouterr().err
    assert "sml-decode: " in err
    assert "expected tcp://host:port" in err


def test_parse_target() -> None:
    """Serial URLs carry the baud rate; a plain file is no target."""
    assert cli.parse_target("serial:///dev/ttyUSB0?baud=2400", 9600) == cli.SerialTarget(
        "/dev/ttyUSB0", 2400
    )
    assert cli.parse_target("serial:///dev/ttyUSB0", 9600) == cli.SerialTarget("/dev/ttyUSB0")
    assert cli.parse_target("tcp://meter:23", 9600) == TcpTarget("meter", 23)
    assert cli.parse_target(str(ISKRA), 9600) is None


async def test_decode_tcp_and_serial(
    hass: HomeAssistant,
    one_shot_peer: StartPeer,
    pty_meter: PtyMeter,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A TCP stream and a serial port (pseudo-terminal) as sources."""
    port = await one_shot_peer(EASYMETER.read_bytes())
    assert await hass.async_add_executor_job(cli.main, [f"tcp://127.0.0.1:{port}", "-n", "4"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4
    pty_meter.start(0.01)
    assert await hass.async_add_executor_job(cli.main, [pty_meter.path, "-n", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert json.loads(out[0])["server_id"] == ISKRA_ID


def test_encoder_round_trip() -> None:
    """Long lists and long octet strings decode with smllib as they were built."""
    holley = corpus_dir() / "HOLLEY_DTZ541-ZDBA.bin"
    server_id, entries = template_from_dump(holley.read_bytes())
    assert len(entries) > 15
    decoder = SmlDecoder()
    decoder.add(encode_frame(server_id, entries, "kermit"))
    frame = decoder.read()
    assert frame is not None
    assert frame.readings["81.7.26"].value == 288
    long = octets(bytes(range(20)))
    assert SmlFrame(long).get_value().value == bytes(range(20)).hex()
    assert sml_list([unsigned(1, 1)] * 16)[:2] == b"\xf1\x00"


def test_template_needs_a_valid_frame() -> None:
    """A dump without any valid frame is refused."""
    with pytest.raises(ValueError, match="no valid SML frame"):
        template_from_dump((corpus_dir() / "EMH_eHZ-IW8E2A5L0EK2P_with_error.bin").read_bytes())


def test_simulated_meter_moves_and_counts() -> None:
    """Power moves both ways; import and export registers only rise."""
    server_id, entries = template_from_dump(ISKRA.read_bytes())
    meter = SimulatedMeter(server_id, entries, interval=60.0)
    decoder = SmlDecoder()
    powers, imports, exports = [], [], []
    for _ in range(120):
        decoder.add(meter.next_frame())
        frame = decoder.read()
        assert frame is not None
        powers.append(frame.power)
        imports.append(frame.readings["1.8.0"].value)
        exports.append(frame.readings["2.8.0"].value)
    assert min(p for p in powers if p is not None) < 0 < max(p for p in powers if p is not None)
    assert imports == sorted(imports)
    assert exports == sorted(exports)
    assert exports[-1] > exports[0]
    assert decoder.crc_errors == 0


def test_replay_splits_at_frame_starts() -> None:
    """Replay cycles through the dump piece by piece."""
    replay = Replay(EASYMETER.read_bytes())
    pieces = [replay.next_frame() for _ in range(len(replay.pieces) + 1)]
    assert b"".join(pieces[:-1]) == EASYMETER.read_bytes()
    assert pieces[-1] == pieces[0]


async def test_simulator_main(hass: HomeAssistant, socket_enabled: None) -> None:
    """``scripts/simulate`` serves and stops after ``--count`` frames."""
    args = ["--port", "0", "--count", "2", "--interval", "0", "--crc", "kermit"]
    assert await hass.async_add_executor_job(simulate.main, args) == 0


async def test_bench_main(
    hass: HomeAssistant, socket_enabled: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The benchmark prints both figures."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = ["--seconds", "0.01", "--cpu-seconds", "1", "--port", str(port)]
    assert await hass.async_add_executor_job(bench.main, [*args, "--engine-only"]) == 0
    out = capsys.readouterr().out
    assert "frames/s" in out
    assert "CPU share at 1 frame/s (link + decoder)" in out
    assert await hass.async_add_executor_job(bench.main, args) == 0
    assert "(Home Assistant with the integration)" in capsys.readouterr().out
    assert bench.main(["--corpus", str(FIXTURES / "nothing")]) == 1


async def test_probe_failures(hass: HomeAssistant, one_shot_peer: StartPeer) -> None:
    """Silence is no frame; a refused or reset connection cannot connect."""
    port = await one_shot_peer(b"\x1b\x1b\x1b\x1b")
    with pytest.raises(NoFrameError):
        await probe(TcpTarget("127.0.0.1", port), wait=0.05)

    async def reset(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    server = await asyncio.start_server(reset, "127.0.0.1", 0)
    resetting = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(CannotConnectError):
            await probe(TcpTarget("127.0.0.1", resetting), wait=5)
        frames: list[object] = []
        stream = SmlStream(TcpTarget("127.0.0.1", resetting), SmlDecoder(), frames.append)
        assert await stream._read(await _reader(resetting)) != ""
        while _KEEP:
            _KEEP.pop().close()
    finally:
        server.close()
        await server.wait_closed()


_KEEP: list[asyncio.StreamWriter] = []


async def _reader(port: int) -> asyncio.StreamReader:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    _KEEP.append(writer)  # a collected writer would close the connection
    return reader


async def test_stream_reconnects_and_logs_once(
    hass: HomeAssistant, socket_enabled: None, caplog: pytest.LogCaptureFixture
) -> None:
    """Idle link closed, peer gone, peer back: one warning, one recovery message."""
    server = MeterServer(Replay(ISKRA.read_bytes()), interval=0.02)
    port = await server.start()
    frames: list[object] = []
    stream = SmlStream(TcpTarget("127.0.0.1", port), SmlDecoder(), frames.append, idle_timeout=5)
    task = hass.loop.create_task(stream.run())
    caplog.set_level(logging.DEBUG, "custom_components.hems.sml.transport")

    async def until(condition: object) -> None:
        assert callable(condition)
        async with asyncio.timeout(20):
            while not condition():  # noqa: ASYNC110  # log records have no event
                await asyncio.sleep(0.01)

    try:
        await until(lambda: frames)
        await server.close()
        await until(lambda: "still unreachable" in caplog.text)
        server = MeterServer(Replay(ISKRA.read_bytes()), interval=0.02)
        await server.start(port=port)
        count = len(frames)
        await until(lambda: len(frames) > count + 1)
        assert caplog.text.count("Lost the SML meter") == 1
        assert caplog.text.count("connected again") == 1
        assert stream.connected
        assert stream.reconnects >= 1
    finally:
        task.cancel()
        await asyncio.wait([task])
        await server.close()


async def test_stream_idle_timeout(hass: HomeAssistant, one_shot_peer: StartPeer) -> None:
    """A link that stays open but silent counts as lost."""
    port = await one_shot_peer(b"")
    stream = SmlStream(TcpTarget("127.0.0.1", port), SmlDecoder(), print, idle_timeout=0.05)
    assert await stream._read(await _reader(port)) == "no data for 0.05 s"
    while _KEEP:
        _KEEP.pop().close()


def test_entry_encodes_negative_values() -> None:
    """Negative values of any register go out signed."""
    entry = Entry(bytes.fromhex("0100100700ff"), None, 27, 0, -5)
    assert entry.encode().endswith(b"\x55\xff\xff\xff\xfb\x01")
