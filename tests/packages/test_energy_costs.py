"""hems_energy_costs.yaml: utility meters reset per day/month, costs follow prices."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import async_get_platforms
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from .conftest import LoadPackages

BERLIN = ZoneInfo("Europe/Berlin")
IMPORT = "sensor.electricity_meter_energy_import"
EXPORT = "sensor.electricity_meter_energy_export"
ENERGY = {"unit_of_measurement": "kWh", "device_class": "energy", "state_class": "total_increasing"}


async def settle(hass: HomeAssistant) -> None:
    """Let pending work run; template entities write their state on a zero-delay timer."""
    await hass.async_block_till_done()
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def meter(hass: HomeAssistant, entity_id: str, kwh: float) -> None:
    hass.states.async_set(entity_id, str(kwh), ENERGY)
    await settle(hass)


def value(hass: HomeAssistant, entity_id: str) -> float:
    state = hass.states.get(entity_id)
    assert state is not None, f"{entity_id} missing"
    return float(state.state)


async def move_to(hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime) -> None:
    freezer.move_to(when)
    async_fire_time_changed(hass, when)
    await settle(hass)


@pytest.fixture
async def costs(
    hass: HomeAssistant, load_packages: LoadPackages, freezer: FrozenDateTimeFactory
) -> AsyncIterator[dict[str, Any]]:
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(datetime(2030, 6, 30, 22, 0, tzinfo=BERLIN))
    config = await load_packages("hems_energy_costs.yaml")
    await meter(hass, IMPORT, 1000.0)
    await meter(hass, EXPORT, 500.0)
    for domain in ("input_number", "utility_meter", "template"):
        assert await async_setup_component(hass, domain, config)
    await hass.async_block_till_done()
    yield config
    # Remove the meters: that cancels their reset timers (no lingering timers).
    for platform in async_get_platforms(hass, "utility_meter"):
        await platform.async_reset()
    await hass.async_block_till_done()


@pytest.mark.usefixtures("costs")
async def test_entities_exist(hass: HomeAssistant) -> None:
    for entity_id in (
        "sensor.hems_grid_import_today",
        "sensor.hems_grid_import_this_month",
        "sensor.hems_grid_export_today",
        "sensor.hems_grid_export_this_month",
        "sensor.hems_grid_import_cost_today",
        "sensor.hems_grid_import_cost_this_month",
        "sensor.hems_grid_export_revenue_today",
        "sensor.hems_grid_export_revenue_this_month",
        "sensor.hems_grid_net_cost_today",
        "sensor.hems_grid_net_cost_this_month",
        "input_number.hems_import_price",
        "input_number.hems_export_price",
        "input_number.hems_monthly_base_fee",
    ):
        assert hass.states.get(entity_id) is not None, entity_id
    cost = hass.states.get("sensor.hems_grid_net_cost_today")
    assert cost is not None
    assert cost.attributes["unit_of_measurement"] == "EUR"
    assert cost.attributes["device_class"] == "monetary"
    await meter(hass, IMPORT, 1000.5)
    today = hass.states.get("sensor.hems_grid_import_today")
    assert today is not None
    assert today.attributes["unit_of_measurement"] == "kWh"
    assert today.attributes["next_reset"].startswith("2030-07-01T00:00:00")


@pytest.mark.usefixtures("costs")
async def test_costs_and_resets(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    await meter(hass, IMPORT, 1002.5)
    await meter(hass, EXPORT, 504.0)
    assert value(hass, "sensor.hems_grid_import_today") == pytest.approx(2.5)
    assert value(hass, "sensor.hems_grid_import_this_month") == pytest.approx(2.5)
    assert value(hass, "sensor.hems_grid_export_today") == pytest.approx(4.0)
    assert value(hass, "sensor.hems_grid_import_cost_today") == pytest.approx(0.75)  # 2.5 x 0.30
    assert value(hass, "sensor.hems_grid_export_revenue_today") == pytest.approx(0.32)  # 4 x 0.08
    assert value(hass, "sensor.hems_grid_net_cost_today") == pytest.approx(0.43)
    assert value(hass, "sensor.hems_grid_net_cost_this_month") == pytest.approx(12.43)  # + fee

    await hass.services.async_call(
        "input_number",
        "set_value",
        {"entity_id": "input_number.hems_import_price", "value": 0.4},
        blocking=True,
    )
    await settle(hass)
    assert value(hass, "sensor.hems_grid_import_cost_today") == pytest.approx(1.0)

    # Local midnight, first of the month: both meters start again.
    await move_to(hass, freezer, datetime(2030, 7, 1, 0, 0, 1, tzinfo=BERLIN))
    assert value(hass, "sensor.hems_grid_import_today") == 0
    assert value(hass, "sensor.hems_grid_import_this_month") == 0
    assert value(hass, "sensor.hems_grid_import_cost_today") == 0
    assert value(hass, "sensor.hems_grid_net_cost_this_month") == pytest.approx(12.0)

    await meter(hass, IMPORT, 1003.5)
    await move_to(hass, freezer, datetime(2030, 7, 2, 0, 0, 1, tzinfo=BERLIN))
    assert value(hass, "sensor.hems_grid_import_today") == 0, "new day"
    assert value(hass, "sensor.hems_grid_import_this_month") == pytest.approx(1.0), "same month"
    assert value(hass, "sensor.hems_grid_import_cost_this_month") == pytest.approx(0.4)


@pytest.mark.usefixtures("costs")
async def test_lost_meter_makes_costs_unavailable_not_zero(hass: HomeAssistant) -> None:
    await meter(hass, IMPORT, 1001.0)
    hass.states.async_set(IMPORT, "unavailable")
    await settle(hass)
    cost = hass.states.get("sensor.hems_grid_import_cost_today")
    assert cost is not None
    assert cost.state == "unavailable", "no reading: no cost rather than a wrong 0"
    # Back: the day's total is kept (never runs backwards) and counting goes on.
    # HA's utility meter takes the first reading after the outage as a new base.
    await meter(hass, IMPORT, 1001.5)
    assert value(hass, "sensor.hems_grid_import_today") == pytest.approx(1.0)
    await meter(hass, IMPORT, 1002.0)
    assert value(hass, "sensor.hems_grid_import_today") == pytest.approx(1.5)
    assert value(hass, "sensor.hems_grid_import_cost_today") == pytest.approx(0.45)
    assert value(hass, "sensor.hems_grid_import_today") == pytest.approx(1.5)
