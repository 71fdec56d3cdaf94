"""A small SML meter simulator for development and tests (``scripts/simulate``).

It takes the last valid frame of a real dump, keeps its server id and OBIS entries, and
serves it over TCP once per interval with a moving active power (16.7.0) and energy
registers (1.8.0 / 2.8.0) that rise with it. Frames are built here (smllib only parses),
with valid message and frame CRCs in the x25 or kermit variant.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import contextlib
from dataclasses import dataclass
import math
from pathlib import Path
import sys

from smllib.crc import kermit, x25
from smllib.errors import SmlLibException
from smllib.reader import SmlStreamReader
from smllib.sml_frame import SmlFrame

from .engine import CRC_VARIANTS, CrcVariant, octet_hex

DEFAULT_PORT = 8899
DEFAULT_DUMP = (
    Path(__file__).resolve().parents[3] / "tests" / "sml" / "fixtures" / "ISKRA_MT175_eHZ.bin"
)
_CRC = {"x25": x25.get_crc, "kermit": kermit.get_crc}
_ESCAPE = b"\x1b\x1b\x1b\x1b"
_NONE = b"\x01"
_POWER = bytes.fromhex("0100100700ff")
_IMPORT = bytes.fromhex("0100010800ff")
_EXPORT = bytes.fromhex("0100020800ff")

type Value = int | str | None


# --- SML type-length-value encoding ------------------------------------------------------


def octets(data: bytes) -> bytes:
    """An octet string (its length counts the type-length bytes too)."""
    if len(data) < 15:
        return bytes([len(data) + 1]) + data
    total = len(data) + 2
    return bytes([0x80 | total >> 4, total & 0x0F]) + data


def unsigned(value: int, width: int) -> bytes:
    """An unsigned integer of ``width`` bytes."""
    return bytes([0x61 + width]) + value.to_bytes(width)


def signed(value: int, width: int) -> bytes:
    """A signed integer of ``width`` bytes."""
    return bytes([0x51 + width]) + value.to_bytes(width, signed=True)


def sml_list(items: Sequence[bytes]) -> bytes:
    """A list of encoded items (its length is the number of items)."""
    count = len(items)
    head = bytes([0x70 | count]) if count < 16 else bytes([0xF0 | count >> 4, count & 0x0F])
    return head + b"".join(items)


def _message(transaction: bytes, tag: int, body: list[bytes], crc: CrcVariant) -> bytes:
    head = b"\x76" + octets(transaction) + unsigned(0, 1) + unsigned(0, 1)
    head += sml_list([unsigned(tag, 2), sml_list(body)])
    return head + unsigned(_CRC[crc](head), 2) + b"\x00"


@dataclass(slots=True)
class Entry:
    """One OBIS value of the get-list response."""

    obis: bytes
    status: int | None
    unit: int | None
    scaler: int | None
    value: Value

    def encode(self) -> bytes:
        """The seven-element list entry."""
        if isinstance(self.value, int):
            value = (
                signed(self.value, 4)
                if self.value < 0 or self.obis == _POWER
                else unsigned(self.value, 8)
            )
        elif isinstance(self.value, str):
            value = octets(bytes.fromhex(octet_hex(self.value)))
        else:
            value = _NONE
        return sml_list(
            [
                octets(self.obis),
                _NONE if self.status is None else unsigned(self.status, 4),
                _NONE,
                _NONE if self.unit is None else unsigned(self.unit, 1),
                _NONE if self.scaler is None else signed(self.scaler, 1),
                value,
                _NONE,
            ]
        )


def encode_frame(
    server_id: bytes, entries: Sequence[Entry], crc: CrcVariant = "x25", sequence: int = 0
) -> bytes:
    """A complete SML file: open response, get-list response, close response."""
    ident = sequence.to_bytes(4)
    server = octets(server_id)
    values = sml_list([entry.encode() for entry in entries])
    body = _message(
        ident + b"\x00", 0x0101, [_NONE, _NONE, octets(ident), server, _NONE, _NONE], crc
    )
    body += _message(
        ident + b"\x01", 0x0701, [_NONE, server, _NONE, _NONE, values, _NONE, _NONE], crc
    )
    body += _message(ident + b"\x02", 0x0201, [_NONE], crc)
    body = body.replace(_ESCAPE, _ESCAPE + _ESCAPE)
    padding = -len(body) % 4
    frame = _ESCAPE + b"\x01\x01\x01\x01" + body + bytes(padding) + _ESCAPE + bytes([0x1A, padding])
    return frame + _CRC[crc](frame).to_bytes(2)


# --- the simulated meter -------------------------------------------------------------------


def template_from_dump(data: bytes) -> tuple[bytes, list[Entry]]:
    """Server id and OBIS entries of the last valid frame of a real dump."""
    reader = SmlStreamReader()
    reader.add(data)
    found: tuple[bytes, list[Entry]] | None = None
    while True:
        try:
            frame = reader.get_frame()
        except SmlLibException:  # a bad CRC in a dump: take the next frame
            continue
        if frame is None:
            break
        try:
            server_id, entries = _template(frame)
        except (SmlLibException, ValueError):
            continue
        if entries:
            found = server_id, entries
    if found is None:
        raise ValueError("the dump holds no valid SML frame")
    return found


def _template(frame: SmlFrame) -> tuple[bytes, list[Entry]]:
    server_id = b""
    for message in frame.parse_frame():
        found_id = getattr(message.message_body, "server_id", None)
        if isinstance(found_id, str) and found_id:
            server_id = bytes.fromhex(found_id)
    entries = [
        Entry(bytes.fromhex(e.obis), e.status, e.unit, e.scaler, e.value)
        for e in frame.get_obis()
        if e.value is None or isinstance(e.value, int | str)
    ]
    return server_id, entries


class SimulatedMeter:
    """Moves power along a slow wave (import and export) and integrates the registers."""

    def __init__(
        self,
        server_id: bytes,
        entries: list[Entry],
        crc: CrcVariant = "x25",
        interval: float = 1.0,
    ) -> None:
        """Start from the dump's values; make sure power and both registers exist."""
        self.server_id = server_id
        self.crc: CrcVariant = crc
        self.interval = interval
        self.entries = list(entries)
        self.sequence = 0
        by_obis = {entry.obis: entry for entry in self.entries}
        self._power = by_obis.get(_POWER) or self._add(_POWER, 27, -1)
        self._import = by_obis.get(_IMPORT) or self._add(_IMPORT, 30, -1)
        self._export = by_obis.get(_EXPORT) or self._add(_EXPORT, 30, -1)
        self._residue = {_IMPORT: 0.0, _EXPORT: 0.0}

    def _add(self, obis: bytes, unit: int, scaler: int) -> Entry:
        entry = Entry(obis, None, unit, scaler, 0)
        self.entries.append(entry)
        return entry

    def power_at(self, step: int) -> float:
        """Watts at a step: 600 W base load minus up to 2.5 kW of passing sun."""
        return 600.0 - 2500.0 * max(0.0, math.sin(step / 30.0)) + 150.0 * math.sin(step / 3.0)

    def next_frame(self) -> bytes:
        """The next frame: new power, registers advanced by one interval."""
        power = self.power_at(self.sequence)
        self._power.value = round(power / 10.0 ** (self._power.scaler or 0))
        register = self._import if power >= 0 else self._export
        wh = abs(power) * self.interval / 3600.0 / 10.0 ** (register.scaler or 0)
        self._residue[register.obis] += wh
        whole = int(self._residue[register.obis])
        self._residue[register.obis] -= whole
        register.value = (register.value if isinstance(register.value, int) else 0) + whole
        frame = encode_frame(self.server_id, self.entries, self.crc, self.sequence)
        self.sequence += 1
        return frame


class Replay:
    """Replays a dump's raw bytes, frame by frame, bad frames included."""

    def __init__(self, data: bytes) -> None:
        """Split the dump at each frame start."""
        marker = _ESCAPE + b"\x01\x01\x01\x01"
        cuts = [i for i in range(len(data)) if data.startswith(marker, i)] or [0]
        self.pieces = [
            data[a:b] for a, b in zip([0, *cuts[1:]], [*cuts[1:], len(data)], strict=True)
        ]
        self.sequence = 0

    def next_frame(self) -> bytes:
        """The next piece of the dump (one frame and whatever came with it)."""
        piece = self.pieces[self.sequence % len(self.pieces)]
        self.sequence += 1
        return piece


class MeterServer:
    """Streams a meter (or a replayed dump) to every TCP client, in small chunks like a
    slow serial line, one frame per ``interval`` seconds."""

    def __init__(
        self,
        source: SimulatedMeter | Replay,
        interval: float = 1.0,
        chunk: int = 64,
        count: int | None = None,
    ) -> None:
        """Nothing is opened yet; ``count`` frames (None: endless), then ``done`` is set."""
        self.source = source
        self.count = count
        self.done = asyncio.Event()
        self.interval = interval
        self.chunk = chunk
        self.port = 0
        self._clients: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen (port 0: any free port) and start sending; return the port."""
        self._server = await asyncio.start_server(self._on_client, host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._task = asyncio.get_running_loop().create_task(self._pump())
        return self.port

    async def close(self) -> None:
        """Stop sending, drop every client, stop listening."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for writer in self._clients:
            writer.close()
        self._clients.clear()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _on_client(self, _: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.add(writer)

    async def _pump(self) -> None:
        sent = 0
        while self.count is None or sent < self.count:
            sent += 1
            frame = self.source.next_frame()
            for writer in list(self._clients):
                try:
                    for start in range(0, len(frame), self.chunk):
                        writer.write(frame[start : start + self.chunk])
                        await writer.drain()
                except OSError:
                    self._clients.discard(writer)
                    writer.close()
            await asyncio.sleep(self.interval)
        self.done.set()


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port (8899)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between frames")
    parser.add_argument("--crc", choices=CRC_VARIANTS, default="x25", help="CRC variant")
    parser.add_argument("--dump", type=Path, default=DEFAULT_DUMP, help="real dump to start from")
    parser.add_argument("--count", type=int, help="stop after this many frames")
    args = parser.parse_args(argv)
    server_id, entries = template_from_dump(args.dump.read_bytes())
    meter = SimulatedMeter(server_id, entries, args.crc, args.interval)

    async def run() -> None:
        server = MeterServer(meter, args.interval, count=args.count)
        port = await server.start(args.host, args.port)
        print(f"SML meter {server_id.hex()} on tcp://{args.host}:{port}", file=sys.stderr)
        try:
            await server.done.wait()
        finally:
            await server.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
