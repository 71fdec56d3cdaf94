"""Serial and TCP links to an SML meter, with reconnect and back-off. No Home Assistant here."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass
import logging
from typing import Final

import serial_asyncio_fast

from .engine import CrcVariant, MeterFrame, SmlDecoder

_LOGGER = logging.getLogger(__name__)

DEFAULT_BAUDRATE: Final = 9600
BAUDRATES: Final = (300, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
DEFAULT_TCP_PORT: Final = 8899
PROBE_TIMEOUT: Final = 15.0
READ_SIZE: Final = 1024
BACKOFF_MAX: Final = 60.0


@dataclass(frozen=True, slots=True)
class TcpTarget:
    """A network IR head or ser2net: the raw SML stream on a TCP port."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"tcp://{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class SerialTarget:
    """An IR head on a serial port (8N1)."""

    device: str
    baudrate: int = DEFAULT_BAUDRATE

    def __str__(self) -> str:
        return self.device


type Target = TcpTarget | SerialTarget


class CannotConnectError(Exception):
    """The port or host cannot be opened."""


class NoFrameError(Exception):
    """The link is open but no valid SML frame arrived in time."""


async def open_link(target: Target) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Open the link to a meter; raise CannotConnectError when that fails."""
    try:
        if isinstance(target, TcpTarget):
            async with asyncio.timeout(10):
                return await asyncio.open_connection(target.host, target.port)
        return await serial_asyncio_fast.open_serial_connection(
            url=target.device, baudrate=target.baudrate, bytesize=8, parity="N", stopbits=1
        )
    except (OSError, TimeoutError, ValueError) as err:
        raise CannotConnectError(f"{target}: {err}") from err


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, TimeoutError):
        async with asyncio.timeout(2):
            await writer.wait_closed()


async def probe(
    target: Target, wait: float = PROBE_TIMEOUT, crc: CrcVariant | None = None
) -> tuple[MeterFrame, SmlDecoder]:
    """Connect, wait for the first valid frame and return it with the decoder used."""
    reader, writer = await open_link(target)
    decoder = SmlDecoder(crc)
    try:
        async with asyncio.timeout(wait):
            while data := await reader.read(READ_SIZE):
                decoder.add(data)
                if (frame := decoder.read()) is not None:
                    return frame, decoder
    except TimeoutError:
        pass
    except OSError as err:
        raise CannotConnectError(f"{target}: {err}") from err
    finally:
        await _close(writer)
    raise NoFrameError(
        f"{target}: no valid SML frame ({decoder.crc_errors} CRC errors, "
        f"{decoder.invalid_frames} unreadable frames)"
    )


class SmlStream:
    """Keep a link to one meter open and hand every valid frame to ``on_frame``.

    A lost link (error, end of stream, or no bytes for ``idle_timeout`` seconds) is closed
    and opened again after a back-off of 0, 1, 2, 4 ... 60 s. The loss is logged once, as
    is the recovery.
    """

    def __init__(
        self,
        target: Target,
        decoder: SmlDecoder,
        on_frame: Callable[[MeterFrame], None],
        *,
        idle_timeout: float = 30.0,
    ) -> None:
        self.target = target
        self.decoder = decoder
        self._on_frame = on_frame
        self.idle_timeout = idle_timeout
        self.connected = False
        self.reconnects = 0
        self._lost = False
        self._link: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def connect(self) -> None:
        """Open the link now (raises CannotConnectError); :meth:`run` then uses it."""
        self._link = await open_link(self.target)
        self.connected = True

    async def run(self) -> None:
        """Read frames until cancelled."""
        delay = 0.0
        while True:
            if self._link is None:
                try:
                    self._link = await open_link(self.target)
                except CannotConnectError as err:
                    self._link_lost(str(err))
                    await asyncio.sleep(delay)
                    delay = min(max(delay * 2, 1.0), BACKOFF_MAX)
                    continue
                self.connected = True
                self.reconnects += 1
                if self._lost:
                    self._lost = False
                    _LOGGER.info("SML meter at %s is connected again", self.target)
            delay = 0.0
            reader, writer = self._link
            try:
                reason = await self._read(reader)
            finally:
                self._link = None
                self.connected = False
                self.decoder.clear()
                await _close(writer)
            self._link_lost(reason)

    async def _read(self, reader: asyncio.StreamReader) -> str:
        decoder = self.decoder
        on_frame = self._on_frame
        try:
            while True:
                async with asyncio.timeout(self.idle_timeout):
                    data = await reader.read(READ_SIZE)
                if not data:
                    return "the peer closed the connection"
                decoder.add(data)
                while (frame := decoder.read()) is not None:
                    on_frame(frame)
        except TimeoutError:
            return f"no data for {self.idle_timeout:g} s"
        except OSError as err:
            return str(err) or type(err).__name__

    def _link_lost(self, reason: str) -> None:
        if self._lost:
            _LOGGER.debug("SML meter at %s still unreachable: %s", self.target, reason)
            return
        self._lost = True
        _LOGGER.warning("Lost the SML meter at %s (%s); reconnecting", self.target, reason)
