"""Constants of the PV-surplus loadpoint entry kind."""

from __future__ import annotations

from typing import Final

KIND: Final = "loadpoint"

# --- entities picked in the config flow (entry.data)
CONF_GRID_POWER: Final = "grid_power"
CONF_GRID_SIGN: Final = "grid_sign"
CONF_PV_POWER: Final = "pv_power"
CONF_BATTERY_POWER: Final = "battery_power"
CONF_BATTERY_SIGN: Final = "battery_sign"
CONF_BATTERY_SOC: Final = "battery_soc"
CONF_CHARGER_ENABLE: Final = "charger_enable"
CONF_CHARGER_CURRENT: Final = "charger_current"
CONF_CHARGER_PHASES: Final = "charger_phases"
CONF_CHARGER_POWER: Final = "charger_power"
CONF_CHARGER_CONNECTED: Final = "charger_connected"
CONF_CHARGER_CHARGING: Final = "charger_charging"
CONF_VEHICLE_SOC: Final = "vehicle_soc"

GRID_IMPORT_POSITIVE: Final = "import_positive"
GRID_EXPORT_POSITIVE: Final = "export_positive"
BATTERY_DISCHARGE_POSITIVE: Final = "discharge_positive"
BATTERY_CHARGE_POSITIVE: Final = "charge_positive"

# --- settings (entry.options); defaults below
OPT_CYCLE_S: Final = "cycle_s"
OPT_MODE: Final = "default_mode"
OPT_PRIORITY: Final = "priority"
OPT_MIN_CURRENT: Final = "min_current_a"
OPT_MAX_CURRENT: Final = "max_current_a"
OPT_CURRENT_STEP: Final = "current_step_a"
OPT_PHASES_MAX: Final = "phases_max"
OPT_PHASE_SWITCHING: Final = "phase_switching"
OPT_FUSE_LIMIT: Final = "fuse_limit_a"
OPT_VOLTAGE: Final = "voltage_v"
OPT_PRIORITY_SOC: Final = "priority_soc"
OPT_BUFFER_SOC: Final = "buffer_soc"
OPT_BUFFER_START_SOC: Final = "buffer_start_soc"
OPT_ENABLE_THRESHOLD: Final = "enable_threshold_w"
OPT_DISABLE_THRESHOLD: Final = "disable_threshold_w"
OPT_ENABLE_DELAY: Final = "enable_delay_s"
OPT_DISABLE_DELAY: Final = "disable_delay_s"
OPT_MIN_ON_TIME: Final = "min_on_time_s"
OPT_MIN_OFF_TIME: Final = "min_off_time_s"
OPT_SMOOTHING: Final = "smoothing_s"
OPT_STALE_AFTER: Final = "stale_after_s"
OPT_COMMAND_INTERVAL: Final = "command_interval_s"
OPT_VEHICLE_CAPACITY: Final = "vehicle_capacity_kwh"
OPT_FOLLOW_TIMEOUT: Final = "follow_timeout_s"

DEFAULTS: Final[dict[str, float | int | bool | str]] = {
    OPT_CYCLE_S: 30,
    OPT_MODE: "pv",
    OPT_PRIORITY: 0,
    OPT_MIN_CURRENT: 6.0,
    OPT_MAX_CURRENT: 16.0,
    OPT_CURRENT_STEP: 1.0,
    OPT_PHASES_MAX: 3,
    OPT_PHASE_SWITCHING: True,
    OPT_VOLTAGE: 230.0,
    OPT_ENABLE_THRESHOLD: 0.0,
    OPT_DISABLE_THRESHOLD: 300.0,
    OPT_ENABLE_DELAY: 60,
    OPT_DISABLE_DELAY: 180,
    OPT_MIN_ON_TIME: 600,
    OPT_MIN_OFF_TIME: 120,
    OPT_SMOOTHING: 60,
    OPT_STALE_AFTER: 60,
    OPT_COMMAND_INTERVAL: 10,
    OPT_VEHICLE_CAPACITY: 60.0,
    OPT_FOLLOW_TIMEOUT: 60,
}
# Optional settings without a default (absent = not used).
OPTIONAL_SETTINGS: Final = (OPT_FUSE_LIMIT, OPT_PRIORITY_SOC, OPT_BUFFER_SOC, OPT_BUFFER_START_SOC)

HISTORY_LENGTH: Final = 100
ISSUE_NOT_FOLLOWING: Final = "loadpoint_charger_not_following"

SERVICE_SET_MODE: Final = "set_loadpoint_mode"
SERVICE_SET_PLAN: Final = "set_departure_plan"
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_MODE: Final = "mode"
ATTR_DEPARTURE: Final = "departure"
ATTR_TARGET_SOC: Final = "target_soc"
