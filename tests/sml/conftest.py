"""Shared helpers of the SML tests: the corpus, fixture dumps, real peers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
import contextlib
import os
from pathlib import Path

from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
import pytest

from custom_components.hems.const import DOMAIN
from custom_components.hems.sml.bench import find_corpus
from custom_components.hems.sml.simulate import MeterServer, Replay

FIXTURES = Path(__file__).parent / "fixtures"
ISKRA = FIXTURES / "ISKRA_MT175_eHZ.bin"
ISKRA_ID = "090149534b000403df63"
EASYMETER = FIXTURES / "EasyMeter_Q3A_A1064V1009.bin"
EASYMETER_ID = "09014553591103b599a5"


def corpus_dir() -> Path:
    """The shared corpus beside the repository."""
    return find_corpus()


def entity_id(hass: HomeAssistant, server_id: str, key: str) -> str:
    """The entity id of one of a meter's sensors."""
    found = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{server_id}_{key}")
    assert found is not None, f"no sensor {key}"
    return found


async def wait_for_state(
    hass: HomeAssistant, entity: str, predicate: Callable[[State], bool], limit: float = 20
) -> State:
    """Wait (event driven) until an entity's state satisfies ``predicate``."""
    state = hass.states.get(entity)
    if state is not None and predicate(state):
        return state
    future: asyncio.Future[State] = hass.loop.create_future()

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if new is not None and predicate(new) and not future.done():
            future.set_result(new)

    unsub = async_track_state_change_event(hass, [entity], changed)
    try:
        async with asyncio.timeout(limit):
            return await future
    finally:
        unsub()


type StartServer = Callable[..., Awaitable[MeterServer]]


@pytest.fixture
async def meter_server(hass: HomeAssistant, socket_enabled: None) -> AsyncIterator[StartServer]:
    """Start TCP meters on 127.0.0.1 (a replayed dump by default); closed after the test."""
    servers: list[MeterServer] = []

    async def start(
        dump: Path = ISKRA, *, interval: float = 0.05, port: int = 0, chunk: int = 64
    ) -> MeterServer:
        server = MeterServer(Replay(dump.read_bytes()), interval=interval, chunk=chunk)
        await server.start(port=port)
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


class PtyMeter:
    """A pseudo-terminal pair: the integration opens the slave like a USB serial port, the
    test writes a dump into the master at a meter's pace."""

    def __init__(self, dump: Path) -> None:
        """Open the pair."""
        self.master, self.slave = os.openpty()
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)
        self.source = Replay(dump.read_bytes())
        self._task: asyncio.Task[None] | None = None

    def start(self, interval: float = 0.05) -> None:
        """Start sending."""
        self._task = asyncio.get_running_loop().create_task(self._send(interval))

    async def stop(self) -> None:
        """Stop sending (the port stays, like an IR head that sees nothing)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _send(self, interval: float) -> None:
        while True:
            with contextlib.suppress(BlockingIOError):
                os.write(self.master, self.source.next_frame())
            await asyncio.sleep(interval)

    def close(self) -> None:
        """Close both ends."""
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
async def pty_meter(hass: HomeAssistant) -> AsyncIterator[PtyMeter]:
    """A serial meter on a pseudo-terminal, sending the Iskra dump."""
    meter = PtyMeter(ISKRA)
    yield meter
    await meter.stop()
    meter.close()


@pytest.fixture
def corpus() -> Iterator[Path]:
    """The shared corpus; its absence is an error (CI clones shared/ beside the repo)."""
    path = corpus_dir()
    if not (path / "expected.json").is_file():
        pytest.fail(f"SML corpus not found at {path} (set HEMS_SML_CORPUS)")
    return path


type StartPeer = Callable[[bytes], Awaitable[int]]


@pytest.fixture
async def one_shot_peer(hass: HomeAssistant, socket_enabled: None) -> AsyncIterator[StartPeer]:
    """A TCP peer that sends the given bytes once to each client and keeps it open."""
    servers: list[asyncio.Server] = []
    writers: list[asyncio.StreamWriter] = []

    async def start(data: bytes) -> int:
        async def on_client(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            writer.write(data)
            await writer.drain()

        server = await asyncio.start_server(on_client, "127.0.0.1", 0)
        servers.append(server)
        port: int = server.sockets[0].getsockname()[1]
        return port

    yield start
    for writer in writers:
        writer.close()
    for server in servers:
        server.close()
        await server.wait_closed()
