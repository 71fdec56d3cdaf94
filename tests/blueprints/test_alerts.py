"""The alert blueprints, run as real automations with a mocked notify service."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, ServiceCall
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from .conftest import MoveTime, SetupBlueprint, at


@pytest.fixture
def notify(blueprint_hass: HomeAssistant) -> list[ServiceCall]:
    return async_mock_service(blueprint_hass, "notify", "notify")


async def report(hass: HomeAssistant, entity_id: str, value: str, **attributes: str) -> None:
    hass.states.async_set(entity_id, value, attributes)
    await hass.async_block_till_done()


def messages(calls: list[ServiceCall]) -> list[tuple[str, str]]:
    return [(call.data["title"], " ".join(call.data["message"].split())) for call in calls]


# --- cistern low -------------------------------------------------------------------------

CISTERN = "sensor.cistern_level"


async def test_cistern_low_after_delay_once(
    blueprint_hass: HomeAssistant,
    setup_blueprint: SetupBlueprint,
    move_time: MoveTime,
    notify: list[ServiceCall],
) -> None:
    hass = blueprint_hass
    await move_time(at(9))
    await report(hass, CISTERN, "45", unit_of_measurement="%", friendly_name="Cistern level")
    await setup_blueprint(
        "alert_cistern_low.yaml",
        {"level_sensor": CISTERN, "threshold": 20, "delay": {"minutes": 10}},
    )
    await report(hass, CISTERN, "18", unit_of_measurement="%", friendly_name="Cistern level")
    await move_time(minutes=3)
    await report(hass, CISTERN, "25", unit_of_measurement="%", friendly_name="Cistern level")
    await move_time(minutes=30)
    assert notify == [], "a single low echo is no alert"

    await report(hass, CISTERN, "19", unit_of_measurement="%", friendly_name="Cistern level")
    await move_time(minutes=9, seconds=59)
    assert notify == []
    await move_time(seconds=1)
    assert messages(notify) == [("Cistern low", "Cistern level is at 19 %.")]

    await report(hass, CISTERN, "17", unit_of_measurement="%", friendly_name="Cistern level")
    await move_time(minutes=30)
    assert len(notify) == 1, "one alert per drop below the threshold"


async def test_cistern_low_custom_action(
    blueprint_hass: HomeAssistant, setup_blueprint: SetupBlueprint, move_time: MoveTime
) -> None:
    hass = blueprint_hass
    phone = async_mock_service(hass, "notify", "mobile_app_phone")
    await move_time(at(9))
    await report(hass, CISTERN, "900", unit_of_measurement="L")
    await setup_blueprint(
        "alert_cistern_low.yaml",
        {
            "level_sensor": CISTERN,
            "threshold": 1000,
            "delay": {"minutes": 0},
            "notify_action": [
                {"action": "notify.mobile_app_phone", "data": {"message": "Tank: {{ message }}"}}
            ],
        },
    )
    await report(hass, CISTERN, "800", unit_of_measurement="L")
    await report(hass, CISTERN, "1200", unit_of_measurement="L")
    await report(hass, CISTERN, "700", unit_of_measurement="L")
    assert [call.data["message"].strip() for call in phone] == [
        "Tank: sensor.cistern_level is at 700 L."
    ]


# --- frost / overheat --------------------------------------------------------------------

GREENHOUSE = "sensor.greenhouse"


async def test_frost_and_overheat(
    blueprint_hass: HomeAssistant,
    setup_blueprint: SetupBlueprint,
    move_time: MoveTime,
    notify: list[ServiceCall],
) -> None:
    hass = blueprint_hass
    await move_time(at(4))
    attrs = {"unit_of_measurement": "°C", "friendly_name": "Greenhouse"}
    await report(hass, GREENHOUSE, "8", **attrs)
    await setup_blueprint(
        "alert_temperature.yaml",
        {
            "temperature_sensor": GREENHOUSE,
            "frost_below": 3,
            "overheat_above": 35,
            "delay": {"minutes": 5},
        },
    )
    await report(hass, GREENHOUSE, "2.5", **attrs)
    await move_time(minutes=4)
    assert notify == []
    await move_time(minutes=1)
    assert messages(notify) == [("Frost warning", "Greenhouse is down to 2.5 °C.")]

    await report(hass, GREENHOUSE, "36", **attrs)
    await move_time(minutes=5)
    assert messages(notify)[1] == ("Overheat warning", "Greenhouse is up to 36 °C.")
    await report(hass, GREENHOUSE, "37", **attrs)
    await move_time(minutes=20)
    assert len(notify) == 2


# --- charging finished -------------------------------------------------------------------

CHARGER = "sensor.wallbox_power"
SOC = "sensor.car_soc"


async def test_charging_finished_with_soc(
    blueprint_hass: HomeAssistant,
    setup_blueprint: SetupBlueprint,
    move_time: MoveTime,
    notify: list[ServiceCall],
) -> None:
    hass = blueprint_hass
    await move_time(at(13))
    await report(hass, CHARGER, "0", unit_of_measurement="W")
    await report(hass, SOC, "79.6", unit_of_measurement="%")
    await setup_blueprint(
        "alert_charging_finished.yaml",
        {"power_sensor": CHARGER, "threshold": 100, "delay": {"minutes": 5}, "soc_sensor": SOC},
    )
    await report(hass, CHARGER, "11000", unit_of_measurement="W")
    await move_time(minutes=60)
    # Top-up pause: below for 2 minutes, then charging again.
    await report(hass, CHARGER, "20", unit_of_measurement="W")
    await move_time(minutes=2)
    await report(hass, CHARGER, "1500", unit_of_measurement="W")
    await move_time(minutes=10)
    assert notify == []

    await report(hass, CHARGER, "5", unit_of_measurement="W")
    await move_time(minutes=5)
    assert messages(notify) == [("Charging finished", "Charging finished at 80 %.")]


async def test_charging_finished_ignores_sensor_coming_back(
    blueprint_hass: HomeAssistant,
    setup_blueprint: SetupBlueprint,
    move_time: MoveTime,
    notify: list[ServiceCall],
) -> None:
    hass = blueprint_hass
    await move_time(at(13))
    await report(hass, CHARGER, "unavailable")
    await setup_blueprint(
        "alert_charging_finished.yaml", {"power_sensor": CHARGER, "delay": {"minutes": 1}}
    )
    await report(hass, CHARGER, "0", unit_of_measurement="W")
    await move_time(minutes=5)
    assert notify == []
    await report(hass, CHARGER, "3000", unit_of_measurement="W")
    await report(hass, CHARGER, "0", unit_of_measurement="W")
    await move_time(minutes=1)
    assert messages(notify) == [("Charging finished", "Charging finished.")]


# --- meter silent ------------------------------------------------------------------------

METER = "sensor.grid_power"


async def test_meter_silent_and_back(
    blueprint_hass: HomeAssistant,
    setup_blueprint: SetupBlueprint,
    move_time: MoveTime,
    notify: list[ServiceCall],
) -> None:
    hass = blueprint_hass
    await move_time(at(2))
    await report(hass, METER, "230", friendly_name="Grid power")
    await setup_blueprint("alert_meter_silent.yaml", {"meter": METER, "silence_minutes": 15})

    # The same value reported again is a sign of life.
    await move_time(minutes=14)
    await report(hass, METER, "230", friendly_name="Grid power")
    await move_time(minutes=14)
    assert notify == []

    await move_time(minutes=1)
    assert messages(notify) == [
        ("Meter silent", "Grid power has not reported for 15 minutes (state: 230).")
    ]
    await move_time(minutes=30)
    assert len(notify) == 1, "one alert per silence"

    await report(hass, METER, "250", friendly_name="Grid power")
    assert messages(notify)[1] == ("Meter back", "Grid power reports again.")


async def test_meter_unavailable_alerts_at_once(
    blueprint_hass: HomeAssistant,
    setup_blueprint: SetupBlueprint,
    move_time: MoveTime,
    notify: list[ServiceCall],
) -> None:
    hass = blueprint_hass
    await move_time(at(2))
    await report(hass, METER, "230")
    await setup_blueprint(
        "alert_meter_silent.yaml",
        {"meter": METER, "silence_minutes": 15, "notify_recovery": False},
    )
    await report(hass, METER, "unavailable")
    assert [title for title, _ in messages(notify)] == ["Meter silent"]
    await report(hass, METER, "240")
    await move_time(minutes=1)
    assert len(notify) == 1, "recovery notification switched off"
