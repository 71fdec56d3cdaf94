"""A tiny site simulation for the closed-loop tests: PV, house load and the helper charger."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from .conftest import CHARGER2_POWER, CHARGER_POWER, GRID


@dataclass
class Site:
    """PV minus house load minus the charger's power, written to the grid meter."""

    hass: HomeAssistant
    freezer: FrozenDateTimeFactory
    pv_w: float = 0.0
    house_w: float = 500.0
    unit: str = "W"
    export_positive: bool = False
    meter_online: bool = True
    statuses: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def charger_w(self) -> float:
        """What the template sensors say the chargers draw."""
        return sum(float(self.hass.states.get(e).state) for e in (CHARGER_POWER, CHARGER2_POWER))

    def grid_w(self) -> float:
        """Import positive."""
        return self.house_w + self.charger_w() - self.pv_w

    def write_meter(self) -> None:
        """Publish the grid power as the meter would."""
        attrs = {"unit_of_measurement": self.unit, "device_class": "power"}
        if not self.meter_online:
            self.hass.states.async_set(GRID, "unavailable", attrs)
            return
        value = -self.grid_w() if self.export_positive else self.grid_w()
        if self.unit == "kW":
            value /= 1000.0
        self.hass.states.async_set(GRID, f"{value:.3f}", attrs)

    async def run(self, seconds: float, step: float = 30.0) -> None:
        """Move time forward cycle by cycle, refreshing the meter before each cycle."""
        for _ in range(round(seconds / step)):
            self.write_meter()
            self.freezer.tick(timedelta(seconds=step))
            async_fire_time_changed(self.hass)
            await self.hass.async_block_till_done()
            status = self.hass.states.get("sensor.garage_status")
            reason = self.hass.states.get("sensor.garage_reason")
            self.statuses.append(status.state if status else "")
            self.reasons.append(reason.state if reason else "")
