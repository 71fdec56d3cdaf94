"""Fixtures: simulated wallboxes on 127.0.0.1 and wallbox config entries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_SCAN_INTERVAL
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hems.const import CONF_KIND, DOMAIN
from custom_components.hems.wallbox.const import CONF_PROFILE, CONF_UNIT_ID

from .simulator import FakeClock, RunningBox, start_box

type StartBox = Callable[..., Awaitable[RunningBox]]
type AddEntry = Callable[..., Awaitable[MockConfigEntry]]


@pytest.fixture
def sim_clock() -> FakeClock:
    """The simulators' clock: moved by the tests (freezing asyncio's clock would stall
    pymodbus's real socket timeouts)."""
    return FakeClock()


@pytest.fixture
async def boxes(socket_enabled: None, sim_clock: FakeClock) -> AsyncIterator[StartBox]:
    """Start simulated wallboxes; all are stopped at the end of the test."""
    running: list[RunningBox] = []

    async def start(
        brand: str, port: int = 0, clock: Callable[[], float] | None = None
    ) -> RunningBox:
        box = await start_box(brand, clock=clock or sim_clock, port=port)
        running.append(box)
        return box

    yield start
    for box in running:
        await box.stop()


@pytest.fixture
async def add_entry(hass: HomeAssistant) -> AsyncIterator[AddEntry]:
    """Add and set up a wallbox entry for a running simulator; unloaded at the end."""
    entries: list[MockConfigEntry] = []

    async def add(
        brand: str, box: RunningBox, unit_id: int | None = None, scan_interval: int = 5
    ) -> MockConfigEntry:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=f"{brand} wallbox",
            unique_id=f"wallbox_127.0.0.1:{box.port}:{unit_id or box.box.unit_id}",
            data={
                CONF_KIND: "wallbox",
                CONF_PROFILE: brand,
                CONF_HOST: "127.0.0.1",
                CONF_PORT: box.port,
                CONF_UNIT_ID: unit_id if unit_id is not None else box.box.unit_id,
            },
            options={CONF_SCAN_INTERVAL: scan_interval},
        )
        entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        entries.append(entry)
        return entry

    yield add
    for entry in entries:
        if entry.state is ConfigEntryState.LOADED:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
