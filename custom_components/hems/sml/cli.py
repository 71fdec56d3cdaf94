"""``scripts/sml-decode SOURCE``: print each valid SML frame as one JSON line.

SOURCE is a dump file, ``-`` (stdin), ``tcp://host:port`` or a serial port path
(``serial:///dev/ttyUSB0?baud=9600`` or just ``/dev/ttyUSB0``). A summary of valid frames
and CRC errors goes to stderr. Uses the integration's decoder, so what you see here is what
Home Assistant gets.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import contextlib
import json
from pathlib import Path
import stat
import sys
from typing import IO
from urllib.parse import parse_qs, urlsplit

from .engine import CRC_VARIANTS, CrcVariant, MeterFrame, SmlDecoder
from .transport import DEFAULT_BAUDRATE, READ_SIZE, SerialTarget, Target, TcpTarget, open_link


def frame_json(frame: MeterFrame) -> str:
    """One frame as a JSON object (short OBIS keys, scaled values)."""
    return json.dumps(
        {
            "server_id": frame.server_id,
            "manufacturer": frame.manufacturer,
            "readings": {
                key: {"value": reading.value, "unit": reading.unit}
                for key, reading in frame.readings.items()
            },
        },
        ensure_ascii=False,
    )


def parse_target(source: str, baudrate: int) -> Target | None:
    """A network or serial target, or None for a file (or ``-``)."""
    if source.startswith("tcp://"):
        url = urlsplit(source)
        if not url.hostname or not url.port:
            raise ValueError(f"{source}: expected tcp://host:port")
        return TcpTarget(url.hostname, url.port)
    if source.startswith("serial://"):
        url = urlsplit(source)
        baud = parse_qs(url.query).get("baud")
        return SerialTarget(url.path, int(baud[0]) if baud else baudrate)
    if source != "-" and Path(source).exists() and stat.S_ISCHR(Path(source).stat().st_mode):
        return SerialTarget(source, baudrate)
    return None


class Printer:
    """Feeds the decoder and prints frames; stops after ``limit`` frames if given."""

    def __init__(self, decoder: SmlDecoder, out: IO[str], limit: int | None) -> None:
        """Nothing printed yet."""
        self.decoder = decoder
        self.out = out
        self.limit = limit

    def feed(self, data: bytes) -> bool:
        """Decode bytes; return False once the frame limit is reached."""
        decoder = self.decoder
        decoder.add(data)
        while (frame := decoder.read()) is not None:
            print(frame_json(frame), file=self.out, flush=True)
            if self.limit is not None and decoder.valid_frames >= self.limit:
                return False
        return True


async def _stream(target: Target, printer: Printer) -> None:
    reader, writer = await open_link(target)
    try:
        while (data := await reader.read(READ_SIZE)) and printer.feed(data):
            pass
    finally:
        writer.close()


def main(argv: Sequence[str] | None = None, stdin: IO[bytes] | None = None) -> int:
    """Command line entry point; returns 0 if at least one valid frame was decoded."""
    parser = argparse.ArgumentParser(
        prog="sml-decode", description=(__doc__ or "").split("\n\n", 1)[0]
    )
    parser.add_argument("source", help="file, -, tcp://host:port or a serial port")
    parser.add_argument("--baud", type=int, default=DEFAULT_BAUDRATE, help="serial baud rate")
    parser.add_argument("--crc", choices=CRC_VARIANTS, help="CRC variant (default: detect)")
    parser.add_argument("-n", "--frames", type=int, help="stop after this many valid frames")
    args = parser.parse_args(argv)
    crc: CrcVariant | None = args.crc
    printer = Printer(SmlDecoder(crc), sys.stdout, args.frames)
    try:
        target = parse_target(args.source, args.baud)
        if target is not None:
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(_stream(target, printer))
        elif args.source == "-":
            source = stdin or sys.stdin.buffer
            while (data := source.read(READ_SIZE)) and printer.feed(data):
                pass
        else:
            printer.feed(Path(args.source).read_bytes())
    except (OSError, ValueError) as err:
        print(f"sml-decode: {err}", file=sys.stderr)
        return 2
    decoder = printer.decoder
    print(
        f"valid frames: {decoder.valid_frames}, CRC errors: {decoder.crc_errors}, "
        f"unreadable frames: {decoder.invalid_frames}, CRC variant: {decoder.crc}",
        file=sys.stderr,
    )
    return 0 if decoder.valid_frames else 1


if __name__ == "__main__":
    sys.exit(main())
