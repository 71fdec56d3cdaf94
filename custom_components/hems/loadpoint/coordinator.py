"""The loadpoint's runtime: read HA entities, run the controller, drive the charger.

Every cycle (``cycle_s``, default 30 s) the coordinator
    1. reads the picked entities (power in W/kW/MW normalised through the unit attribute,
       the grid sign option applied),
    2. books session energy and its solar share,
    3. runs :class:`~.controller.SiteController` for its one loadpoint,
    4. writes the decision to the charger's entities through HA actions (only what
       differs, a value at most once per ``follow_timeout_s`` unless it changes) and checks
       that the charger followed; a charger that does not follow within
       ``follow_timeout_s`` raises a repair issue, which clears when it follows again,
    5. keeps the last 100 decisions with their inputs for diagnostics and tells the
       entities.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta
import logging
import math
import re
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from custom_components.hems.const import DOMAIN

from .const import (
    BATTERY_CHARGE_POSITIVE,
    CONF_BATTERY_POWER,
    CONF_BATTERY_SIGN,
    CONF_BATTERY_SOC,
    CONF_CHARGER_CHARGING,
    CONF_CHARGER_CONNECTED,
    CONF_CHARGER_CURRENT,
    CONF_CHARGER_ENABLE,
    CONF_CHARGER_PHASES,
    CONF_CHARGER_POWER,
    CONF_GRID_POWER,
    CONF_GRID_SIGN,
    CONF_PV_POWER,
    CONF_VEHICLE_SOC,
    DEFAULTS,
    GRID_EXPORT_POSITIVE,
    HISTORY_LENGTH,
    ISSUE_NOT_FOLLOWING,
    OPT_BUFFER_SOC,
    OPT_BUFFER_START_SOC,
    OPT_COMMAND_INTERVAL,
    OPT_CURRENT_STEP,
    OPT_CYCLE_S,
    OPT_DISABLE_DELAY,
    OPT_DISABLE_THRESHOLD,
    OPT_ENABLE_DELAY,
    OPT_ENABLE_THRESHOLD,
    OPT_FOLLOW_TIMEOUT,
    OPT_FUSE_LIMIT,
    OPT_MAX_CURRENT,
    OPT_MIN_CURRENT,
    OPT_MIN_OFF_TIME,
    OPT_MIN_ON_TIME,
    OPT_MODE,
    OPT_PHASE_SWITCHING,
    OPT_PHASES_MAX,
    OPT_PRIORITY,
    OPT_PRIORITY_SOC,
    OPT_SMOOTHING,
    OPT_STALE_AFTER,
    OPT_VEHICLE_CAPACITY,
    OPT_VOLTAGE,
)
from .controller import (
    ChargeMode,
    Decision,
    DeparturePlan,
    LoadpointInputs,
    LoadpointSettings,
    SiteController,
    SiteInputs,
    SiteSettings,
)

_LOGGER = logging.getLogger(__name__)

SUN_ENTITY = "sun.sun"
SUN_ABOVE_HORIZON = "above_horizon"
POWER_FACTORS: Mapping[str | None, float] = {
    None: 1.0,
    UnitOfPower.WATT: 1.0,
    UnitOfPower.KILO_WATT: 1000.0,
    UnitOfPower.MEGA_WATT: 1_000_000.0,
}
ON_STATES = frozenset({STATE_ON, "true", "connected", "plugged", "charging"})
SWITCH_DOMAINS = frozenset({"switch", "input_boolean"})
NUMBER_DOMAINS = frozenset({"number", "input_number"})
SELECT_DOMAINS = frozenset({"select", "input_select"})


def option(options: Mapping[str, Any], key: str) -> Any:
    """A setting from the entry's options, falling back to its default."""
    return options.get(key, DEFAULTS.get(key))


def loadpoint_settings(options: Mapping[str, Any], phases_entity: bool) -> LoadpointSettings:
    """Build the controller's loadpoint settings from the entry's options."""
    phases_max = int(option(options, OPT_PHASES_MAX))
    return LoadpointSettings(
        mode=ChargeMode(option(options, OPT_MODE)),
        priority=int(option(options, OPT_PRIORITY)),
        min_current_a=float(option(options, OPT_MIN_CURRENT)),
        max_current_a=float(option(options, OPT_MAX_CURRENT)),
        current_step_a=float(option(options, OPT_CURRENT_STEP)),
        phases_max=phases_max,
        phase_switching=phases_entity
        and phases_max == 3
        and bool(option(options, OPT_PHASE_SWITCHING)),
        vehicle_capacity_kwh=float(option(options, OPT_VEHICLE_CAPACITY)),
        enable_threshold_w=float(option(options, OPT_ENABLE_THRESHOLD)),
        disable_threshold_w=float(option(options, OPT_DISABLE_THRESHOLD)),
        enable_delay_s=float(option(options, OPT_ENABLE_DELAY)),
        disable_delay_s=float(option(options, OPT_DISABLE_DELAY)),
        min_on_time_s=float(option(options, OPT_MIN_ON_TIME)),
        min_off_time_s=float(option(options, OPT_MIN_OFF_TIME)),
        smoothing_s=float(option(options, OPT_SMOOTHING)),
        command_interval_s=float(option(options, OPT_COMMAND_INTERVAL)),
    )


def site_settings(options: Mapping[str, Any]) -> SiteSettings:
    """Build the controller's site settings from the entry's options."""

    def optional(key: str) -> float | None:
        value = options.get(key)
        return None if value is None else float(value)

    return SiteSettings(
        voltage_v=float(option(options, OPT_VOLTAGE)),
        stale_after_s=float(option(options, OPT_STALE_AFTER)),
        fuse_limit_a=optional(OPT_FUSE_LIMIT),
        priority_soc=optional(OPT_PRIORITY_SOC),
        buffer_soc=optional(OPT_BUFFER_SOC),
        buffer_start_soc=optional(OPT_BUFFER_START_SOC),
    )


def _number(state: State | None) -> float | None:
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    try:
        value = float(state.state)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def power_w(state: State | None) -> float | None:
    """A power state in W (``None`` if missing, not a number or not a power unit)."""
    value = _number(state)
    if value is None or state is None:
        return None
    factor = POWER_FACTORS.get(state.attributes.get(ATTR_UNIT_OF_MEASUREMENT))
    return None if factor is None else value * factor


def phases_of(text: str) -> int | None:
    """1 or 3 from an option like ``"1"``, ``"3p"`` or ``"1-phase"``."""
    match = re.search(r"\d", text)
    if match is None or match.group() not in ("1", "3"):
        return None
    return int(match.group())


@dataclass
class Drive:
    """What we want from one charger entity and whether it did it."""

    desired: Any = None
    written: Any = None
    last_write: float | None = None
    mismatch_since: float | None = None
    actual: str | None = None


type CommandValue = bool | float | int
type LoadpointConfigEntry = ConfigEntry[LoadpointCoordinator]


class LoadpointCoordinator(DataUpdateCoordinator[Decision | None]):
    """Runs one loadpoint and pushes each decision to its entities."""

    def __init__(self, hass: HomeAssistant, entry: LoadpointConfigEntry) -> None:
        """Set the controller up from the entry's data and options."""
        super().__init__(hass, _LOGGER, config_entry=entry, name=entry.title)
        self.running = False
        self.entry: LoadpointConfigEntry = entry
        data: Mapping[str, Any] = entry.data
        self.conf = data
        options: Mapping[str, Any] = entry.options
        self.cycle_s = float(option(options, OPT_CYCLE_S))
        self.follow_timeout_s = float(option(options, OPT_FOLLOW_TIMEOUT))
        self.site = SiteController(
            site_settings(options),
            {entry.entry_id: loadpoint_settings(options, bool(data.get(CONF_CHARGER_PHASES)))},
        )
        self.controller = self.site.loadpoints[entry.entry_id]
        self.departure: time | None = None
        self.target_soc: float | None = None
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY_LENGTH)
        self.drives: dict[str, Drive] = {}
        self.session_energy_kwh = 0.0
        self.session_solar_kwh = 0.0
        self.session_started: datetime | None = None
        self.not_following: str | None = None
        self._connected: bool | None = None
        self._last_cycle: float | None = None
        self.running = False
        self._warned: set[str] = set()

    @property
    def issue_id(self) -> str:
        """The repair issue raised when the charger does not follow."""
        return f"{ISSUE_NOT_FOLLOWING}_{self.entry.entry_id}"

    @property
    def session_solar_share(self) -> float | None:
        """Solar share of this session's energy in %, None before any energy."""
        if self.session_energy_kwh <= 0:
            return None
        return round(100.0 * self.session_solar_kwh / self.session_energy_kwh, 1)

    # ------------------------------------------------------------- user settings
    def start(self) -> None:
        """Run the control loop until the entry unloads."""
        self.entry.async_on_unload(
            async_track_time_interval(
                self.hass,
                self._async_tick,
                timedelta(seconds=self.cycle_s),
                name=f"hems loadpoint {self.entry.title}",
            )
        )
        self.entry.async_on_unload(self._clear_issue)

    def set_mode(self, mode: ChargeMode | str) -> None:
        """Change the charge mode."""
        if ChargeMode(mode) != self.controller.mode:
            self.controller.set_mode(mode)
        self.async_update_listeners()

    def set_min_soc(self, value: float | None) -> None:
        """Below this vehicle SoC charge at full power (0 = off)."""
        self.controller.settings.min_soc = value or None
        self.async_update_listeners()

    def set_limit_soc(self, value: float | None) -> None:
        """Stop at this vehicle SoC (100 = off)."""
        self.controller.settings.limit_soc = None if value is None or value >= 100 else value
        self.async_update_listeners()

    def set_plan(self, departure: time | None, target_soc: float | None) -> None:
        """Set the departure time and/or target SoC (target 0 = no plan)."""
        if departure is not None:
            self.departure = departure
        if target_soc is not None:
            self.target_soc = target_soc
        self.async_update_listeners()

    def restore_session(
        self, energy_kwh: float, solar_kwh: float, started: datetime | None
    ) -> None:
        """Continue the session a restart interrupted (the counters never run backwards)."""
        if self._last_cycle is not None or energy_kwh < 0:
            return
        self.session_energy_kwh = energy_kwh
        self.session_solar_kwh = min(max(0.0, solar_kwh), energy_kwh)
        self.session_started = started

    def plan(self, now: datetime) -> DeparturePlan | None:
        """The plan for the next departure, if a departure time and target SoC are set."""
        if self.departure is None or not self.target_soc:
            return None
        local = dt_util.as_local(now)
        when = datetime.combine(local.date(), self.departure, tzinfo=local.tzinfo)
        if when <= local:
            when += timedelta(days=1)
        return DeparturePlan(self.target_soc, when.timestamp())

    # ------------------------------------------------------------- the cycle
    async def _async_tick(self, _now: datetime) -> None:
        await self.async_cycle()

    def peers(self) -> list[LoadpointCoordinator]:
        """Loaded loadpoints on the same grid meter (this one included), by entry id.

        They share one site: the first one runs the cycle for all, so the surplus is
        shared by priority instead of being spent twice.
        """
        found = [self]
        for entry in self.hass.config_entries.async_loaded_entries(DOMAIN):
            other = getattr(entry, "runtime_data", None)
            if (
                isinstance(other, LoadpointCoordinator)
                and other is not self
                and other.conf.get(CONF_GRID_POWER) == self.conf.get(CONF_GRID_POWER)
            ):
                found.append(other)
        return sorted(found, key=lambda c: c.entry.entry_id)

    async def async_cycle(self) -> None:
        """Run one control cycle of this loadpoint's site (the site's leader runs it)."""
        peers = self.peers()
        if peers[0] is not self or any(p.running for p in peers):
            return
        for peer in peers:
            peer.running = True
        try:
            await self._async_cycle(peers)
        finally:
            for peer in peers:
                peer.running = False

    async def _async_cycle(self, peers: list[LoadpointCoordinator]) -> None:
        utcnow = dt_util.utcnow()
        now = utcnow.timestamp()
        site = self._read_site(now)
        inputs: dict[str, LoadpointInputs] = {}
        for peer in peers:
            lp = peer.read_loadpoint()
            peer.book_energy(now, site, lp)
            peer.controller.set_plan(peer.plan(utcnow))
            inputs[peer.entry.entry_id] = lp
        shared = SiteController(self.site.settings)
        shared.loadpoints = {peer.entry.entry_id: peer.controller for peer in peers}
        decisions = shared.update(site, inputs)
        for peer in peers:
            decision = decisions[peer.entry.entry_id]
            await peer.apply(now, decision)
            peer.record(utcnow, site, inputs[peer.entry.entry_id], decision, len(peers))

    def record(
        self,
        utcnow: datetime,
        site: SiteInputs,
        lp: LoadpointInputs,
        decision: Decision,
        loadpoints_on_site: int,
    ) -> None:
        """Keep the decision with its inputs and tell the entities."""
        self.history.append(
            {
                "time": utcnow.isoformat(),
                "site": asdict(site),
                "loadpoint": asdict(lp),
                "decision": {
                    "enable": decision.enable,
                    "current_a": decision.current_a,
                    "phases": decision.phases,
                    "status": str(decision.status),
                    "reason": decision.reason.as_dict(),
                    "available_power_w": round(decision.available_power_w, 1),
                    "target_power_w": round(decision.target_power_w, 1),
                },
                "loadpoints_on_site": loadpoints_on_site,
                "not_following": self.not_following,
            }
        )
        self.async_set_updated_data(decision)

    def _state(self, key: str) -> State | None:
        entity_id = self.conf.get(key)
        return None if not entity_id else self.hass.states.get(entity_id)

    def _power(self, key: str) -> float | None:
        state = self._state(key)
        value = power_w(state)
        if value is None and state is not None and _number(state) is not None:
            self._warn_once(
                f"unit_{key}",
                "%s has unit %s, expected W, kW or MW; ignoring it",
                state.entity_id,
                state.attributes.get(ATTR_UNIT_OF_MEASUREMENT),
            )
        return value

    def _on(self, key: str) -> bool | None:
        state = self._state(key)
        if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            return None
        return state.state.lower() in ON_STATES

    def _phases(self) -> int | None:
        state = self._state(CONF_CHARGER_PHASES)
        if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            return None
        if state.domain in SWITCH_DOMAINS:
            return 3 if state.state == STATE_ON else 1
        return phases_of(state.state)

    def _read_site(self, now: float) -> SiteInputs:
        grid_state = self._state(CONF_GRID_POWER)
        grid = self._power(CONF_GRID_POWER)
        if grid is not None and self.conf.get(CONF_GRID_SIGN) == GRID_EXPORT_POSITIVE:
            grid = -grid
        battery = self._power(CONF_BATTERY_POWER)
        if battery is not None and self.conf.get(CONF_BATTERY_SIGN) == BATTERY_CHARGE_POSITIVE:
            battery = -battery
        site = SiteInputs(
            now=now,
            grid_power_w=grid,
            grid_updated_at=(
                grid_state.last_reported.timestamp() if grid_state is not None else None
            ),
            pv_power_w=self._power(CONF_PV_POWER),
            battery_power_w=battery,
            battery_soc=_number(self._state(CONF_BATTERY_SOC)),
            sun_hours_left=self._sun_hours_left(now),
        )
        if grid is None:
            self._warn_once(
                "grid", "%s: no grid power from %s", self.entry.title, self.conf[CONF_GRID_POWER]
            )
        elif "grid" in self._warned:
            self._warned.discard("grid")
            _LOGGER.info("%s: grid power is back", self.entry.title)
        return site

    def read_loadpoint(self) -> LoadpointInputs:
        """The charger's and the vehicle's state."""
        # Without a plugged-in sensor the car counts as connected.
        connected = (
            self._on(CONF_CHARGER_CONNECTED) if self.conf.get(CONF_CHARGER_CONNECTED) else True
        )
        power = max(0.0, self._power(CONF_CHARGER_POWER) or 0.0)
        charging = self._on(CONF_CHARGER_CHARGING) if self.conf.get(CONF_CHARGER_CHARGING) else None
        return LoadpointInputs(
            connected=bool(connected),
            charging=power > 50.0 if charging is None else charging,
            power_w=power,
            active_phases=self._phases(),
            vehicle_soc=_number(self._state(CONF_VEHICLE_SOC)),
            session_energy_kwh=self.session_energy_kwh,
        )

    def _sun_hours_left(self, now: float) -> float | None:
        """Hours until sunset from HA's ``sun.sun`` (0 at night, None without it)."""
        sun = self.hass.states.get(SUN_ENTITY)
        if sun is None:
            return None
        if sun.state != SUN_ABOVE_HORIZON:
            return 0.0
        setting = dt_util.parse_datetime(str(sun.attributes.get("next_setting", "")))
        if setting is None:
            return None
        return max(0.0, (setting.timestamp() - now) / 3600.0)

    def book_energy(self, now: float, site: SiteInputs, lp: LoadpointInputs) -> None:
        """Integrate the car's power into session energy and its solar part."""
        if lp.connected and self._connected is False:
            self.session_energy_kwh = 0.0
            self.session_solar_kwh = 0.0
            self.session_started = dt_util.utcnow()
        self._connected = lp.connected
        last, self._last_cycle = self._last_cycle, now
        if last is None or not lp.connected:
            return
        # A gap (HA paused) books at most a few cycles, never a jump.
        hours = min(max(0.0, now - last), 4 * self.cycle_s) / 3600.0
        bought = max(0.0, site.grid_power_w) if site.grid_power_w is not None else lp.power_w
        bought += max(0.0, site.battery_power_w or 0.0)
        solar_w = max(0.0, lp.power_w - bought)
        self.session_energy_kwh += lp.power_w * hours / 1000.0
        self.session_solar_kwh += solar_w * hours / 1000.0
        if self.session_started is None:
            self.session_started = dt_util.utcnow()

    # ------------------------------------------------------------- the charger
    async def apply(self, now: float, decision: Decision) -> None:
        """Write the decision to the charger's entities and check they follow."""
        commands: list[tuple[str, CommandValue]] = []
        phases_entity = self.conf.get(CONF_CHARGER_PHASES)
        if phases_entity:  # also with fixed phases: keep the charger on what we assume
            commands.append((phases_entity, decision.phases))
        if decision.enable:
            commands.append((self.conf[CONF_CHARGER_CURRENT], decision.current_a))
        commands.append((self.conf[CONF_CHARGER_ENABLE], decision.enable))
        driven = {entity_id for entity_id, _ in commands}
        for entity_id, drive in self.drives.items():
            if entity_id not in driven:
                drive.mismatch_since = None
        for entity_id, value in commands:
            await self._drive(now, entity_id, value)
        self._check_following(now)

    def _target(self, state: State | None, entity_id: str, value: CommandValue) -> Any:
        """The state the entity should show for ``value`` (None: cannot be expressed)."""
        domain = entity_id.partition(".")[0]
        if domain in SWITCH_DOMAINS:
            if isinstance(value, bool):
                return STATE_ON if value else "off"
            return STATE_ON if value == 3 else "off"
        if domain in NUMBER_DOMAINS:
            target = float(value)
            if state is not None:
                low = state.attributes.get("min")
                high = state.attributes.get("max")
                if isinstance(high, int | float):
                    target = min(target, float(high))
                if isinstance(low, int | float):
                    target = max(target, float(low))
            return target
        if domain in SELECT_DOMAINS and state is not None:
            for opt in state.attributes.get("options", []):
                if phases_of(str(opt)) == value:
                    return str(opt)
        return None

    @staticmethod
    def _matches(state: State | None, target: Any) -> bool:
        if state is None or target is None:
            return False
        if isinstance(target, float):
            actual = _number(state)
            return actual is not None and abs(actual - target) < 0.05
        return bool(state.state == target)

    async def _drive(self, now: float, entity_id: str, value: CommandValue) -> None:
        state = self.hass.states.get(entity_id)
        drive = self.drives.setdefault(entity_id, Drive())
        target = self._target(state, entity_id, value)
        drive.desired = target
        drive.actual = None if state is None else state.state
        if self._matches(state, target):
            drive.mismatch_since = None
            drive.written = target
            return
        if drive.mismatch_since is None:
            drive.mismatch_since = now
        if target is None or state is None or state.state == STATE_UNAVAILABLE:
            return
        if (
            drive.written == target
            and drive.last_write is not None
            and now - drive.last_write < self.follow_timeout_s
        ):
            return  # Rate limit: the same value again only after the follow timeout.
        drive.written = target
        drive.last_write = now
        await self._write(entity_id, target)

    async def _write(self, entity_id: str, target: Any) -> None:
        domain = entity_id.partition(".")[0]
        data: dict[str, Any] = {ATTR_ENTITY_ID: entity_id}
        if domain in SWITCH_DOMAINS:
            service = "turn_on" if target == STATE_ON else "turn_off"
        elif domain in NUMBER_DOMAINS:
            service = "set_value"
            data["value"] = target
        else:
            service = "select_option"
            data["option"] = target
        try:
            await self.hass.services.async_call(domain, service, data, blocking=True)
        except HomeAssistantError as err:
            self._warn_once(
                f"write_{entity_id}", "Writing %s to %s failed: %s", target, entity_id, err
            )
        else:
            self._warned.discard(f"write_{entity_id}")

    def _check_following(self, now: float) -> None:
        late = [
            (entity_id, drive)
            for entity_id, drive in self.drives.items()
            if drive.mismatch_since is not None
            and now - drive.mismatch_since >= self.follow_timeout_s - 1e-6
        ]
        if not late:
            if self.not_following is not None:
                _LOGGER.info("%s: the charger follows its commands again", self.entry.title)
            self._clear_issue()
            return
        entity_id, drive = late[0]
        if self.not_following == entity_id:
            return
        self.not_following = entity_id
        _LOGGER.warning(
            "%s: %s did not follow the command %s within %.0f s (it shows %s)",
            self.entry.title,
            entity_id,
            drive.desired,
            self.follow_timeout_s,
            drive.actual,
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self.issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_NOT_FOLLOWING,
            translation_placeholders={
                "name": self.entry.title,
                "entity_id": entity_id,
                "expected": str(drive.desired),
                "actual": str(drive.actual),
                "timeout": f"{self.follow_timeout_s:.0f}",
            },
        )

    def _clear_issue(self) -> None:
        self.not_following = None
        ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)

    def _warn_once(self, key: str, message: str, *args: Any) -> None:
        if key in self._warned:
            _LOGGER.debug(message, *args)
            return
        self._warned.add(key)
        _LOGGER.warning(message, *args)
