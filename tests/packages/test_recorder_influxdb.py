"""Recorder and InfluxDB packages: valid for their integration's schema, sane filters."""

from __future__ import annotations

from typing import Any

from homeassistant.components import influxdb, recorder
from homeassistant.helpers.entityfilter import convert_include_exclude_filter
import pytest
import voluptuous as vol

from .conftest import LoadPackages

KEPT = (
    "sensor.electricity_meter_energy_import",
    "sensor.electricity_meter_power",
    "sensor.hems_grid_net_cost_today",
)
DIAGNOSTICS = (
    "sensor.hems_pump_wi_fi_signal",
    "sensor.hems_pump_uptime",
)


def entity_filter(conf: dict[str, Any]) -> Any:
    """The include/exclude part of a config, as HA's entity filter."""
    keys = ("domains", "entities", "entity_globs")
    return convert_include_exclude_filter(
        {
            part: {key: conf.get(part, {}).get(key, []) for key in keys}
            for part in ("include", "exclude")
        }
    )


async def test_recorder_package(load_packages: LoadPackages) -> None:
    config = await load_packages("hems_recorder_raspberry_pi.yaml")
    validated = recorder.CONFIG_SCHEMA({"recorder": config["recorder"]})["recorder"]
    assert validated["commit_interval"] == 30
    assert validated["purge_keep_days"] == 10
    assert validated["exclude"]["event_types"] == ["call_service"]

    keep = entity_filter(validated)
    for entity_id in KEPT:
        assert keep(entity_id), f"{entity_id} must keep its history and statistics"
    for entity_id in (*DIAGNOSTICS, "sun.sun", "update.esphome", "sensor.hems_ph_probe_voltage"):
        assert not keep(entity_id), entity_id


@pytest.mark.parametrize(
    ("package", "version"),
    [("hems_influxdb_v2.yaml", "2"), ("hems_influxdb_v1.yaml", "1")],
)
async def test_influxdb_packages(load_packages: LoadPackages, package: str, version: str) -> None:
    config = await load_packages(package)
    validated = influxdb.CONFIG_SCHEMA({"influxdb": config["influxdb"]})["influxdb"]
    assert validated["api_version"] == version
    if version == "2":
        assert validated["token"] == "test-token"
        assert validated["bucket"] == "home_assistant"
    else:
        assert validated["database"] == "homeassistant"
        assert validated["password"] == "test-password"

    export = entity_filter(config["influxdb"])
    for entity_id in KEPT:
        assert export(entity_id), entity_id
    for entity_id in (*DIAGNOSTICS, "light.hall", "sensor.hems_pump_firmware_version"):
        assert not export(entity_id), entity_id


async def test_influxdb_v2_without_token_is_rejected(load_packages: LoadPackages) -> None:
    """The schema check above can fail: the v2 package relies on its token."""
    config = await load_packages("hems_influxdb_v2.yaml")
    conf = dict(config["influxdb"])
    del conf["token"]
    with pytest.raises(vol.Invalid):
        influxdb.CONFIG_SCHEMA({"influxdb": conf})
