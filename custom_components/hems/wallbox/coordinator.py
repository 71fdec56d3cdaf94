"""Polling one wallbox: unavailable while it does not answer, with reconnect back-off."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_SCAN_INTERVAL
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from custom_components.hems.const import DOMAIN

from .const import DEFAULT_SCAN_INTERVAL, MAX_BACKOFF
from .driver import WallboxDriver, WallboxError, WallboxStatus

_LOGGER = logging.getLogger(__name__)

type WallboxConfigEntry = ConfigEntry[WallboxCoordinator]


class WallboxCoordinator(DataUpdateCoordinator[WallboxStatus]):
    """Reads the wallbox every scan interval and carries out commands."""

    config_entry: WallboxConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: WallboxConfigEntry, driver: WallboxDriver
    ) -> None:
        self.scan_interval = timedelta(
            seconds=entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
        )
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"wallbox {entry.data[CONF_HOST]}",
            update_interval=self.scan_interval,
            always_update=False,
        )
        self.driver = driver
        self.failures = 0

    async def _async_update_data(self) -> WallboxStatus:
        try:
            status = await self.driver.read_status()
        except WallboxError as err:
            # Back off: 2x, 4x, ... the scan interval, at most MAX_BACKOFF seconds.
            self.failures += 1
            seconds = self.scan_interval.total_seconds() * 2**self.failures
            self.update_interval = timedelta(seconds=min(seconds, MAX_BACKOFF))
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="wallbox_unavailable",
                translation_placeholders={"error": str(err)},
            ) from err
        if self.failures:
            self.failures = 0
            self.update_interval = self.scan_interval
        return status

    @callback
    def async_start_heartbeat(self) -> Callable[[], None] | None:
        """Rewrite the setpoint periodically if the profile needs it; returns the stopper."""
        beat = self.driver.profile.heartbeat
        if beat is None:
            return None
        return async_track_time_interval(
            self.hass,
            self._async_heartbeat,
            timedelta(seconds=beat.interval),
            name=f"wallbox heartbeat {self.config_entry.entry_id}",
            cancel_on_shutdown=True,
        )

    async def _async_heartbeat(self, _now: datetime) -> None:
        try:
            await self.driver.heartbeat()
        except WallboxError as err:
            # The poll reports the outage (once); the next beat tries again.
            _LOGGER.debug("Wallbox heartbeat failed: %s", err)

    async def async_command(self, command: Awaitable[Any]) -> None:
        """Run a write, turn failures into a translated error, then read back."""
        try:
            await command
        except WallboxError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="wallbox_write_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        await self.async_refresh()
