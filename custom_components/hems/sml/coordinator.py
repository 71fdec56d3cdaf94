"""The running connection to one SML meter: frames in, throttled entity updates out."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from custom_components.hems.const import DOMAIN

from .const import (
    CONF_BAUDRATE,
    CONF_CRC,
    CONF_DEVICE,
    CONF_SILENCE_TIMEOUT,
    CONF_THROTTLE,
    CONF_TRANSPORT,
    DEFAULT_SILENCE_TIMEOUT,
    DEFAULT_THROTTLE,
    FIRST_FRAME_TIMEOUT,
    TRANSPORT_TCP,
)
from .engine import MeterFrame, MeterState, SmlDecoder
from .transport import (
    DEFAULT_BAUDRATE,
    CannotConnectError,
    SerialTarget,
    SmlStream,
    Target,
    TcpTarget,
)

_LOGGER = logging.getLogger(__name__)

type SmlConfigEntry = ConfigEntry[SmlCoordinator]


def target_from_data(data: dict[str, Any]) -> Target:
    """Build the link target from config entry data (or flow input)."""
    if data[CONF_TRANSPORT] == TRANSPORT_TCP:
        return TcpTarget(data[CONF_HOST], int(data[CONF_PORT]))
    return SerialTarget(data[CONF_DEVICE], int(data.get(CONF_BAUDRATE, DEFAULT_BAUDRATE)))


@dataclass(frozen=True, slots=True)
class SmlSettings:
    """The entry's options."""

    silence_timeout: float
    throttle: float

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> SmlSettings:
        """Read the options, with defaults."""
        return cls(
            float(options.get(CONF_SILENCE_TIMEOUT, DEFAULT_SILENCE_TIMEOUT)),
            float(options.get(CONF_THROTTLE, DEFAULT_THROTTLE)),
        )


class SmlCoordinator(DataUpdateCoordinator[MeterState]):
    """Push coordinator: the meter sends, we decode, entities are told at most once per
    throttle interval. After ``silence_timeout`` without a valid frame the entities go
    unavailable; the next good frame brings them back."""

    config_entry: SmlConfigEntry

    def __init__(self, hass: HomeAssistant, entry: SmlConfigEntry) -> None:
        """Prepare the link; nothing is opened yet."""
        self.target = target_from_data(dict(entry.data))
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"SML meter {self.target}",
            update_interval=None,
        )
        self.settings = SmlSettings.from_options(dict(entry.options))
        self.state = MeterState()
        self.data = self.state
        self.decoder = SmlDecoder(entry.data.get(CONF_CRC))
        self.stream = SmlStream(
            self.target, self.decoder, self._on_frame, idle_timeout=self.settings.silence_timeout
        )
        self.new_keys = False
        self._first_frame = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._silence_handle: asyncio.TimerHandle | None = None
        self._flush_handle: asyncio.TimerHandle | None = None
        self._last_flush = -1e9

    async def async_start(self) -> None:
        """Connect and wait for the first frame; raise ConfigEntryNotReady if that fails."""
        try:
            await self.stream.connect()
        except CannotConnectError as err:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="sml_cannot_connect",
                translation_placeholders={"target": str(self.target), "error": str(err)},
            ) from err
        self._task = self.config_entry.async_create_background_task(
            self.hass, self.stream.run(), f"hems sml {self.target}"
        )
        try:
            async with asyncio.timeout(FIRST_FRAME_TIMEOUT):
                await self._first_frame.wait()
        except TimeoutError as err:
            await self.async_stop()
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="sml_no_frame",
                translation_placeholders={"target": str(self.target)},
            ) from err

    async def async_stop(self) -> None:
        """Close the link and stop every timer."""
        for handle in (self._silence_handle, self._flush_handle):
            if handle is not None:
                handle.cancel()
        self._silence_handle = self._flush_handle = None
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])
            self._task = None

    @callback
    def _on_frame(self, frame: MeterFrame) -> None:
        if self.state.update(frame):
            self.new_keys = True
        loop = self.hass.loop
        if self._silence_handle is not None:
            self._silence_handle.cancel()
        self._silence_handle = loop.call_later(self.settings.silence_timeout, self._on_silence)
        if not self._first_frame.is_set():
            self._first_frame.set()
        if not self.last_update_success:
            _LOGGER.info("SML meter at %s is sending valid frames again", self.target)
            self.last_update_success = True
            self._flush()
            return
        if self._flush_handle is not None:
            return  # a flush is due at the end of the throttle interval
        wait = self._last_flush + self.settings.throttle - loop.time()
        if wait <= 0:
            self._flush()
        else:
            self._flush_handle = loop.call_later(wait, self._flush)

    @callback
    def _flush(self) -> None:
        self._flush_handle = None
        self._last_flush = self.hass.loop.time()
        self.async_update_listeners()

    @callback
    def _on_silence(self) -> None:
        self._silence_handle = None
        self.async_set_update_error(
            UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="sml_silence",
                translation_placeholders={
                    "target": str(self.target),
                    "seconds": f"{self.settings.silence_timeout:g}",
                },
            )
        )

    def diagnostics(self) -> dict[str, Any]:
        """Counters and state for the diagnostics download."""
        decoder = self.decoder
        return {
            "target": str(self.target),
            "connected": self.stream.connected,
            "reconnects": self.stream.reconnects,
            "crc": decoder.crc,
            "valid_frames": decoder.valid_frames,
            "crc_errors": decoder.crc_errors,
            "invalid_frames": decoder.invalid_frames,
            "refused_counter_values": self.state.refused_total,
            "available": self.last_update_success,
            "values": dict(sorted(self.state.values.items())),
            "units": dict(sorted(self.state.units.items())),
            "power": self.state.power,
        }
