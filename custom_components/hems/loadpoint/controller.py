"""PV-surplus charging controller for one or more loadpoints (pure Python, no HA import).

The engine is driven by its caller: every cycle (default 30 s, down to 5 s) the caller
builds a :class:`SiteInputs` and one :class:`LoadpointInputs` per loadpoint, calls
:meth:`SiteController.update` and applies each returned :class:`Decision` to its charger
(enable, current in A, phases). Time is a float of seconds supplied by the caller (any
monotonic epoch, e.g. ``time.time()`` or simulation seconds); the engine never reads a
clock, so tests and the benchmark simulation drive it deterministically.

Sign conventions
    * grid power: import positive, export negative (W)
    * home battery power: discharging positive, charging negative (W)
    * loadpoint power: what the car draws, >= 0 (W)

How a cycle works (per loadpoint, highest priority first)
    1. available power = export + what our loadpoints draw now, adjusted for the home
       battery (priority / buffer / buffer-start SoC) and shared by priority.
    2. the current tracks the raw available power (floor to the charger's step, so the
       house does not import to feed the car), clamped to min/max current and the fuse.
    3. start/stop and 1p/3p decisions use a smoothed signal (exponential moving average),
       thresholds with hysteresis and delays, a minimum on-time, a minimum off-time and a
       minimum interval between phase switches.
    4. every decision carries a :class:`Reason`: a code from :class:`ReasonCode` plus a
       params dict (e.g. ``{"remaining_s": 130}``) for translation into user text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
import math
from typing import Any

__all__ = [
    "ChargeMode",
    "Decision",
    "DeparturePlan",
    "LoadpointController",
    "LoadpointInputs",
    "LoadpointSettings",
    "Reason",
    "ReasonCode",
    "SiteController",
    "SiteInputs",
    "SiteSettings",
    "Status",
]

_EPS = 1e-6


class ChargeMode(StrEnum):
    """Charging mode chosen by the user."""

    OFF = "off"
    """Never charge (a departure plan or vehicle min SoC still overrides? no: off is off)."""
    NOW = "now"
    """Full power now."""
    MINPV = "minpv"
    """At least min current, more with surplus."""
    PV = "pv"
    """Surplus only."""


class Status(StrEnum):
    """Coarse state of a loadpoint, for a status sensor."""

    DISCONNECTED = "disconnected"
    IDLE = "idle"
    WAITING_ENABLE = "waiting_enable"
    CHARGING = "charging"
    WAITING_DISABLE = "waiting_disable"
    PHASE_SWITCHING = "phase_switching"
    COMPLETE = "complete"
    FAULT = "fault"


class ReasonCode(StrEnum):
    """Machine-readable reason of a decision; params are listed per code."""

    DISCONNECTED = "disconnected"
    """No vehicle plugged in. No params."""
    FAULT = "fault"
    """The charger reports a fault. No params."""
    MODE_OFF = "mode_off"
    """Mode is off. No params."""
    MODE_NOW = "mode_now"
    """Mode now: full power. Params: current_a, phases."""
    BELOW_MIN_SOC = "below_min_soc"
    """Vehicle SoC below its min SoC: full power. Params: soc, min_soc."""
    PLAN_ACTIVE = "plan_active"
    """Departure plan needs grid energy now. Params: target_soc, departure_in_s, need_kwh."""
    PLAN_WAITING = "plan_waiting"
    """Plan set; grid charging starts at the latest at start_in_s. Params: start_in_s,
    target_soc, need_kwh."""
    LIMIT_SOC_REACHED = "limit_soc_reached"
    """Vehicle reached its limit SoC. Params: soc, limit_soc."""
    ENERGY_LIMIT_REACHED = "energy_limit_reached"
    """Session energy limit reached. Params: energy_kwh, limit_kwh."""
    SURPLUS = "surplus"
    """Charging with surplus. Params: surplus_w, current_a, phases."""
    MIN_CURRENT = "min_current"
    """Holding min current: min+pv with too little surplus, or pv riding through a dip
    while the long average (``hold_window_s``) still covers min power. Params: current_a,
    phases."""
    NO_SURPLUS = "no_surplus"
    """Not enough surplus to start. Params: surplus_w, needed_w."""
    ENABLE_DELAY = "enable_delay"
    """Surplus high enough, waiting for the enable delay. Params: remaining_s."""
    DISABLE_DELAY = "disable_delay"
    """Surplus too low, waiting for the disable delay. Params: remaining_s."""
    MIN_ON_TIME = "min_on_time"
    """Surplus too low but the minimum on-time holds charging. Params: remaining_s."""
    MIN_OFF_TIME = "min_off_time"
    """Surplus high enough but the minimum off-time holds. Params: remaining_s."""
    PHASE_SWITCH_DELAY = "phase_switch_delay"
    """A 1p/3p switch is pending. Params: phases (target), remaining_s."""
    PHASE_SWITCHING = "phase_switching"
    """Phase switch in progress. Params: phases (target), remaining_s."""
    BATTERY_PRIORITY = "battery_priority"
    """Home battery below its priority SoC charges first. Params: soc, priority_soc."""
    BATTERY_BUFFER = "battery_buffer"
    """Home battery above buffer SoC covers min current. Params: soc, buffer_soc."""
    BATTERY_BUFFER_START = "battery_buffer_start"
    """Home battery above buffer-start SoC lets the car start. Params: soc,
    buffer_start_soc."""
    STALE_DATA = "stale_data"
    """Grid data stale: safe state. Params: age_s."""
    FUSE_LIMIT = "fuse_limit"
    """Current limited by the house fuse. Params: limit_a."""
    PRIORITY = "priority"
    """Surplus taken by a higher-priority loadpoint. Params: surplus_w."""
    VEHICLE_FULL = "vehicle_full"
    """Enabled but the vehicle draws nothing (its own limit). No params."""


@dataclass(frozen=True, slots=True)
class Reason:
    """Why the controller decided what it decided."""

    code: ReasonCode
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return ``{"code": ..., **params}`` (JSON-friendly)."""
        return {"code": str(self.code), **dict(self.params)}


@dataclass(slots=True)
class SiteSettings:
    """Site-wide tunables (all defaults are sensible for a German house)."""

    voltage_v: float = 230.0
    stale_after_s: float = 60.0
    """Grid data older than this -> safe state (min current in min+pv, stop in pv)."""
    fuse_limit_a: float | None = None
    """House fuse limit per phase (A). With grid phase currents the limit applies to the
    house total, without them to the chargers' sum."""
    priority_soc: float | None = None
    """Home battery below this SoC (%) charges first."""
    buffer_soc: float | None = None
    """Home battery above this SoC (%) may hold the car's min current."""
    buffer_start_soc: float | None = None
    """Home battery above this SoC (%) may start the car."""


@dataclass(slots=True)
class LoadpointSettings:
    """Per-loadpoint tunables. Mutate them between cycles (e.g. from HA number entities)."""

    mode: ChargeMode = ChargeMode.PV
    priority: int = 0
    """Higher number = served first."""
    min_current_a: float = 6.0
    max_current_a: float = 16.0
    current_step_a: float = 1.0
    """Charger's current resolution: 1.0 or 0.1 A."""
    phases_max: int = 3
    """1 or 3: phases wired to the charger."""
    phase_switching: bool = True
    """Charger can switch 1p/3p automatically."""
    vehicle_capacity_kwh: float = 60.0
    charge_efficiency: float = 0.9
    min_soc: float | None = None
    """Below this vehicle SoC (%) charge at full power."""
    limit_soc: float | None = None
    """Stop at this vehicle SoC (%) (the vehicle's own limit also applies)."""
    energy_limit_kwh: float | None = None
    """Stop after this much energy in the session."""
    enable_threshold_w: float = 0.0
    """Extra surplus (W) above the minimum charging power needed to start."""
    disable_threshold_w: float = 300.0
    """Grid import (W) tolerated at min current before stopping."""
    enable_delay_s: float = 60.0
    disable_delay_s: float = 180.0
    min_on_time_s: float = 600.0
    min_off_time_s: float = 120.0
    smoothing_s: float = 60.0
    """Time constant of the moving average used for start/stop/phase decisions."""
    phase_smoothing_s: float = 300.0
    """Time constant of the slower moving average used for 1p/3p decisions."""
    hold_window_s: float = 600.0
    """Time constant of a long moving average: while it still covers the minimum power,
    a dip does not stop charging (the car keeps min current; 0 = off)."""
    phase_up_delay_s: float = 120.0
    phase_down_delay_s: float = 180.0
    phase_hysteresis_w: float = 700.0
    """Up to 3p above 3p-min + this; down to 1p below 3p-min - this."""
    phase_up_min_need_kwh: float = 6.0
    """Switch up to 3p only if the vehicle still needs more than this (unknown SoC:
    always)."""
    sun_factor: float = 1.0
    """Share of the remaining sun hours assumed to run at the 1p maximum when judging
    whether 1p will fill the car today (used when sun_hours_left is known)."""
    min_phase_switch_interval_s: float = 1800.0
    phase_switch_duration_s: float = 60.0
    """How long a phase switch pauses charging (status phase_switching)."""
    command_interval_s: float = 10.0
    """Never change a command more often than this (what the charger accepts)."""
    plan_margin_s: float = 900.0
    """A departure plan starts grid charging this much earlier than strictly needed."""


@dataclass(frozen=True, slots=True)
class DeparturePlan:
    """Reach ``target_soc`` (%) by ``departure_time`` (seconds, caller's clock)."""

    target_soc: float
    departure_time: float


@dataclass(frozen=True, slots=True)
class SiteInputs:
    """Site measurements of one cycle."""

    now: float
    grid_power_w: float | None
    """Import positive. None = not available (treated as stale)."""
    grid_updated_at: float | None = None
    """When the grid value was measured; None = now."""
    pv_power_w: float | None = None
    battery_power_w: float | None = None
    """Discharge positive."""
    battery_soc: float | None = None
    grid_phase_currents_a: tuple[float, float, float] | None = None
    """House phase currents at the grid meter (import positive), for the fuse limit."""
    sun_hours_left: float | None = None
    """Hours until sunset today (e.g. from HA's sun.sun next_setting); None = unknown."""
    forecast_surplus_kwh: float | None = None
    """Expected surplus energy for the rest of today (solar forecast minus expected
    house load); None = no forecast."""


@dataclass(frozen=True, slots=True)
class LoadpointInputs:
    """Charger and vehicle measurements of one cycle."""

    connected: bool
    charging: bool = False
    power_w: float = 0.0
    phase_currents_a: tuple[float, float, float] | None = None
    active_phases: int | None = None
    vehicle_soc: float | None = None
    vehicle_limit_soc: float | None = None
    session_energy_kwh: float | None = None
    fault: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """What the charger should do now."""

    enable: bool
    current_a: float
    phases: int
    status: Status
    reason: Reason
    available_power_w: float = 0.0
    """Surplus assigned to this loadpoint (raw), for display."""
    target_power_w: float = 0.0
    """Power the command aims at (0 when disabled)."""


def _floor_step(value: float, step: float) -> float:
    """Round down to the charger's step (robust against float noise)."""
    n = math.floor(value / step + 1e-9)
    return round(n * step, 3)


class LoadpointController:
    """State machine of one loadpoint. Usually owned by a :class:`SiteController`."""

    def __init__(self, settings: LoadpointSettings | None = None) -> None:
        """Create a controller; settings may be mutated between cycles."""
        self.settings = settings or LoadpointSettings()
        self.plan: DeparturePlan | None = None
        self._enabled = False
        self._phases = 1 if self.settings.phases_max == 1 else 3
        self._current = self.settings.min_current_a
        self._last_enable_change: float | None = None
        self._last_phase_switch: float | None = None
        self._last_command: float | None = None
        self._enable_since: float | None = None
        self._disable_since: float | None = None
        self._up_since: float | None = None
        self._down_since: float | None = None
        self._ema: float | None = None
        self._ema_t: float | None = None
        self._last: Decision | None = None
        self._switch_pauses = False
        self._slow: float | None = None
        self._hold: float | None = None
        self._total: float | None = None
        self._max_a = self.settings.max_current_a
        self._plan_active = False

    # ----------------------------------------------------------------- public API
    @property
    def mode(self) -> ChargeMode:
        """Current mode."""
        return self.settings.mode

    def set_mode(self, mode: ChargeMode | str) -> None:
        """Change the mode (takes effect next cycle; timers restart)."""
        self.settings.mode = ChargeMode(mode)
        self._reset_timers()

    def set_plan(self, plan: DeparturePlan | None) -> None:
        """Set or clear (None) the departure plan."""
        self.plan = plan
        self._plan_active = False

    @property
    def last_decision(self) -> Decision | None:
        """The decision of the previous cycle."""
        return self._last

    @property
    def enabled(self) -> bool:
        """Whether charging is commanded on."""
        return self._enabled

    @property
    def phases(self) -> int:
        """Commanded phases."""
        return self._phases

    def min_power_w(self, phases: int, voltage: float = 230.0) -> float:
        """Power at min current on ``phases``."""
        return self.settings.min_current_a * voltage * phases

    def max_power_w(self, phases: int, voltage: float = 230.0) -> float:
        """Power at max current on ``phases``."""
        return self.settings.max_current_a * voltage * phases

    def need_kwh(self, lp: LoadpointInputs, target_soc: float | None = None) -> float | None:
        """Energy from the grid side still needed to reach ``target_soc`` (or the limit)."""
        s = self.settings
        if lp.vehicle_soc is None:
            return None
        target = target_soc if target_soc is not None else self._limit_soc(lp)
        if target is None:
            target = 100.0
        return max(0.0, (target - lp.vehicle_soc) / 100.0 * s.vehicle_capacity_kwh) / max(
            s.charge_efficiency, 0.1
        )

    # ----------------------------------------------------------------- internals
    def _limit_soc(self, lp: LoadpointInputs) -> float | None:
        limits = [x for x in (self.settings.limit_soc, lp.vehicle_limit_soc) if x is not None]
        return min(limits) if limits else None

    def _reset_timers(self) -> None:
        self._enable_since = None
        self._disable_since = None
        self._up_since = None
        self._down_since = None

    def _update_ema(self, now: float, value: float) -> float:
        tau = self.settings.smoothing_s
        tau_slow = self.settings.phase_smoothing_s
        if self._ema is None or self._slow is None or self._hold is None or self._ema_t is None:
            self._ema = self._slow = self._hold = value
        else:
            dt = max(0.0, now - self._ema_t)
            a = 1.0 - math.exp(-dt / tau) if tau > 0 else 1.0
            self._ema += a * (value - self._ema)
            b = 1.0 - math.exp(-dt / tau_slow) if tau_slow > 0 else 1.0
            self._slow += b * (value - self._slow)
            tau_hold = self.settings.hold_window_s
            c = 1.0 - math.exp(-dt / tau_hold) if tau_hold > 0 else 1.0
            self._hold += c * (value - self._hold)
        self._ema_t = now
        return self._ema

    def _phases_allowed(self) -> tuple[int, ...]:
        if self.settings.phases_max == 1:
            return (1,)
        if not self.settings.phase_switching:
            return (3,)
        return (1, 3)

    def _current_for(self, power: float, phases: int, voltage: float, max_a: float) -> float:
        s = self.settings
        cur = _floor_step(power / (voltage * phases), s.current_step_a)
        return max(s.min_current_a, min(max_a, cur))

    def _timer(self, attr: str, cond: bool, now: float) -> float | None:
        """Keep a 'condition true since' timer; returns elapsed seconds or None."""
        if not cond:
            setattr(self, attr, None)
            return None
        since = getattr(self, attr)
        if since is None:
            setattr(self, attr, now)
            return 0.0
        return float(now - since)

    def _commit(
        self,
        now: float,
        enable: bool,
        current: float,
        phases: int,
        status: Status,
        reason: Reason,
        avail: float,
        voltage: float,
        safety: bool = False,
    ) -> Decision:
        """Apply rate limiting, record state changes and build the decision."""
        s = self.settings
        changed = (
            enable != self._enabled
            or phases != self._phases
            or (enable and abs(current - self._current) > _EPS)
        )
        # Going over the fuse room is never held back by the command rate limit.
        safety = safety or (self._enabled and self._current > self._max_a + _EPS)
        if (
            changed
            and not safety
            and self._last_command is not None
            and now - self._last_command < s.command_interval_s - _EPS
        ):
            # Too soon for the charger: keep the previous command.
            enable, current, phases = self._enabled, self._current, self._phases
            changed = False
        if changed:
            self._last_command = now
            if enable != self._enabled:
                self._last_enable_change = now
            if phases != self._phases:
                self._last_phase_switch = now
                # A switch while charging pauses the car; choosing phases before a start
                # does not.
                self._switch_pauses = enable and self._enabled
                if self._switch_pauses:
                    status = Status.PHASE_SWITCHING
        self._enabled = enable
        self._phases = phases
        if enable:
            self._current = current
        power = current * voltage * phases if enable else 0.0
        d = Decision(
            enable=enable,
            current_a=current if enable else 0.0,
            phases=phases,
            status=status,
            reason=reason,
            available_power_w=avail,
            target_power_w=power,
        )
        self._last = d
        return d

    def step(
        self,
        site: SiteInputs,
        lp: LoadpointInputs,
        available_w: float,
        *,
        settings: SiteSettings | None = None,
        max_current_a: float | None = None,
        battery_state: str | None = None,
        total_available_w: float | None = None,
    ) -> Decision:
        """Decide one cycle for this loadpoint.

        ``available_w`` is the raw surplus assigned to this loadpoint including what it
        draws now; ``max_current_a`` the fuse room (None = no fuse limit);
        ``battery_state`` one of None, "priority", "buffer", "buffer_start" (see
        :class:`SiteController`); ``total_available_w`` the site's surplus before
        higher-priority loadpoints took their share (for the ``priority`` reason).
        Normally called by :meth:`SiteController.update`.
        """
        self._total = total_available_w
        site_s = settings or SiteSettings()
        s = self.settings
        now = site.now
        v = site_s.voltage_v
        ema = self._update_ema(now, available_w)
        max_a = s.max_current_a if max_current_a is None else min(s.max_current_a, max_current_a)
        self._max_a = max_a
        allowed = self._phases_allowed()
        fuse_limited = max_current_a is not None and max_current_a < s.max_current_a - _EPS

        def off(status: Status, reason: Reason, safety: bool = True) -> Decision:
            self._reset_timers()
            return self._commit(
                now,
                False,
                self._current,
                self._phases,
                status,
                reason,
                available_w,
                v,
                safety,
            )

        # --- unconditional states
        if not lp.connected:
            self._ema = None
            return off(Status.DISCONNECTED, Reason(ReasonCode.DISCONNECTED))
        if lp.fault:
            return off(Status.FAULT, Reason(ReasonCode.FAULT))
        if s.mode == ChargeMode.OFF:
            return off(Status.IDLE, Reason(ReasonCode.MODE_OFF))
        if max_a < s.min_current_a - _EPS:
            return off(Status.IDLE, Reason(ReasonCode.FUSE_LIMIT, {"limit_a": max(0.0, max_a)}))

        limit = self._limit_soc(lp)
        soc = lp.vehicle_soc
        if soc is not None and limit is not None and soc >= limit - _EPS:
            return off(
                Status.COMPLETE,
                Reason(ReasonCode.LIMIT_SOC_REACHED, {"soc": soc, "limit_soc": limit}),
            )
        if (
            s.energy_limit_kwh is not None
            and lp.session_energy_kwh is not None
            and lp.session_energy_kwh >= s.energy_limit_kwh - _EPS
        ):
            return off(
                Status.COMPLETE,
                Reason(
                    ReasonCode.ENERGY_LIMIT_REACHED,
                    {
                        "energy_kwh": lp.session_energy_kwh,
                        "limit_kwh": s.energy_limit_kwh,
                    },
                ),
            )

        full_phases = max(allowed)
        full_current = _floor_step(max_a, s.current_step_a)

        def full(reason: Reason, want: int = full_phases) -> Decision:
            self._reset_timers()
            st = Status.CHARGING
            if fuse_limited:
                reason = Reason(reason.code, {**reason.params, "limit_a": max_a})
            if self._phases != want and self._switch_allowed(now):
                phases = want
            else:
                phases = self._phases if self._phases in allowed else full_phases
            return self._commit(now, True, full_current, phases, st, reason, available_w, v)

        if s.mode == ChargeMode.NOW:
            return full(
                Reason(
                    ReasonCode.MODE_NOW,
                    {"current_a": full_current, "phases": full_phases},
                )
            )
        if soc is not None and s.min_soc is not None and soc < s.min_soc - _EPS:
            return full(Reason(ReasonCode.BELOW_MIN_SOC, {"soc": soc, "min_soc": s.min_soc}))

        plan_reason: Reason | None = None
        if self.plan is not None and soc is not None:
            need = self.need_kwh(lp, self.plan.target_soc) or 0.0
            if need <= _EPS or now >= self.plan.departure_time:
                self._plan_active = False
            if need > _EPS:
                # Stay on the current phases (no contactor switch) when they still make
                # it in time; otherwise plan with all phases.
                plan_phases = full_phases
                scale = min(1.0, max_a / s.max_current_a)
                if self._phases in allowed and self._phases != full_phases:
                    p_cur = self.max_power_w(self._phases, v) * scale
                    left = self.plan.departure_time - now
                    if need * 1000.0 / max(p_cur, 1.0) * 3600.0 <= left:
                        plan_phases = self._phases
                p_full = self.max_power_w(plan_phases, v) * scale
                dur = need * 1000.0 / max(p_full, 1.0) * 3600.0
                start_at = self.plan.departure_time - dur - s.plan_margin_s
                params = {
                    "target_soc": self.plan.target_soc,
                    "need_kwh": round(need, 2),
                    "departure_in_s": round(max(0.0, self.plan.departure_time - now)),
                }
                if (now >= start_at or self._plan_active) and now < self.plan.departure_time:
                    # once started, a plan runs until the target is reached
                    self._plan_active = True
                    return full(Reason(ReasonCode.PLAN_ACTIVE, params), plan_phases)
                if now < start_at:
                    plan_reason = Reason(
                        ReasonCode.PLAN_WAITING,
                        {
                            "start_in_s": round(start_at - now),
                            "target_soc": self.plan.target_soc,
                            "need_kwh": round(need, 2),
                        },
                    )

        # --- stale data: safe state
        age = None
        if site.grid_power_w is None:
            age = math.inf
        elif site.grid_updated_at is not None:
            age = now - site.grid_updated_at
        if age is not None and age > site_s.stale_after_s:
            self._reset_timers()
            self._ema = None
            r = Reason(
                ReasonCode.STALE_DATA,
                {"age_s": None if math.isinf(age) else round(age)},
            )
            if s.mode == ChargeMode.MINPV:
                ph = self._phases if self._phases in allowed else min(allowed)
                return self._commit(
                    now,
                    True,
                    s.min_current_a,
                    ph,
                    Status.CHARGING,
                    r,
                    available_w,
                    v,
                    True,
                )
            return off(Status.IDLE, r)

        return self._surplus(
            site, lp, available_w, ema, max_a, allowed, v, battery_state, plan_reason
        )

    def one_phase_potential_kwh(self, site: SiteInputs, voltage: float = 230.0) -> float:
        """Energy 1p charging will likely still deliver today (0 if unknown).

        With a forecast: the smaller of 80 % of the forecast surplus and the 1p maximum
        over the remaining sun hours; without: the 1p maximum over ``sun_factor`` of the
        remaining sun hours.
        """
        hours = site.sun_hours_left
        p1 = self.max_power_w(1, voltage) / 1000.0
        if site.forecast_surplus_kwh is not None:
            cap = p1 * hours if hours is not None else math.inf
            return max(0.0, min(0.8 * site.forecast_surplus_kwh, cap))
        if hours is None:
            return 0.0
        return max(0.0, p1 * hours * self.settings.sun_factor)

    def _switch_allowed(self, now: float) -> bool:
        last = self._last_phase_switch
        return last is None or now - last >= self.settings.min_phase_switch_interval_s - _EPS

    def _surplus(
        self,
        site_in: SiteInputs,
        lp: LoadpointInputs,
        avail: float,
        ema: float,
        max_a: float,
        allowed: tuple[int, ...],
        v: float,
        battery_state: str | None,
        plan_reason: Reason | None,
    ) -> Decision:
        s = self.settings
        now = site_in.now

        def commit(
            enable: bool, current: float, phases: int, status: Status, reason: Reason
        ) -> Decision:
            return self._commit(now, enable, current, phases, status, reason, avail, v)

        minpv = s.mode == ChargeMode.MINPV
        need = self.need_kwh(lp)
        min1 = self.min_power_w(min(allowed), v)
        min3 = self.min_power_w(3, v)
        big_need = need is None or need > max(
            s.phase_up_min_need_kwh, self.one_phase_potential_kwh(site_in, v)
        )

        def best_start_phases() -> int:
            if 3 in allowed and (
                1 not in allowed or (ema >= min3 + s.phase_hysteresis_w and big_need)
            ):
                return 3
            return min(allowed)

        if not self._enabled:
            self._disable_since = None
            ph = best_start_phases()
            need_w = self.min_power_w(ph, v) + s.enable_threshold_w
            if minpv:
                cur = self._current_for(avail, ph, v, max_a)
                return commit(
                    True,
                    cur,
                    ph,
                    Status.CHARGING,
                    Reason(ReasonCode.MIN_CURRENT, {"current_a": cur, "phases": ph}),
                )
            buffer_start = battery_state == "buffer_start"
            cond = ema >= need_w or buffer_start
            elapsed = self._timer("_enable_since", cond, now)
            if elapsed is None:
                if plan_reason is not None:
                    return commit(False, self._current, self._phases, Status.IDLE, plan_reason)
                code = (
                    ReasonCode.BATTERY_PRIORITY
                    if battery_state == "priority"
                    else ReasonCode.NO_SURPLUS
                )
                params: dict[str, Any] = {
                    "surplus_w": round(ema),
                    "needed_w": round(need_w),
                }
                if (
                    code == ReasonCode.NO_SURPLUS
                    and self._total is not None
                    and self._total >= need_w
                    and avail < self._total - 1.0
                ):
                    code = ReasonCode.PRIORITY
                    params = {"surplus_w": round(self._total)}
                return commit(False, self._current, self._phases, Status.IDLE, Reason(code, params))
            off_for = (
                math.inf if self._last_enable_change is None else now - self._last_enable_change
            )
            if off_for < s.min_off_time_s:
                return commit(
                    False,
                    self._current,
                    self._phases,
                    Status.WAITING_ENABLE,
                    Reason(
                        ReasonCode.MIN_OFF_TIME,
                        {"remaining_s": round(s.min_off_time_s - off_for)},
                    ),
                )
            if elapsed < s.enable_delay_s - _EPS:
                return commit(
                    False,
                    self._current,
                    self._phases,
                    Status.WAITING_ENABLE,
                    Reason(
                        ReasonCode.ENABLE_DELAY,
                        {"remaining_s": round(s.enable_delay_s - elapsed)},
                    ),
                )
            self._enable_since = None
            cur = self._current_for(avail, ph, v, max_a)
            code = (
                ReasonCode.BATTERY_BUFFER_START
                if buffer_start and ema < need_w
                else ReasonCode.SURPLUS
            )
            return commit(
                True,
                cur,
                ph,
                Status.CHARGING,
                Reason(code, {"surplus_w": round(avail), "current_a": cur, "phases": ph}),
            )

        # --- enabled: phase decisions first
        ph = self._phases
        since_switch = (
            math.inf if self._last_phase_switch is None else now - self._last_phase_switch
        )
        if self._switch_pauses and since_switch < s.phase_switch_duration_s - _EPS:
            cur = self._current_for(avail, ph, v, max_a)
            return commit(
                True,
                cur,
                ph,
                Status.PHASE_SWITCHING,
                Reason(
                    ReasonCode.PHASE_SWITCHING,
                    {
                        "phases": ph,
                        "remaining_s": round(s.phase_switch_duration_s - since_switch),
                    },
                ),
            )
        target_ph = ph
        if 1 in allowed and 3 in allowed:
            slow = self._slow if self._slow is not None else ema
            up = ph == 1 and min(ema, slow) >= min3 + s.phase_hysteresis_w and big_need
            down = ph == 3 and max(ema, slow) < min3 - s.phase_hysteresis_w
            e_up = self._timer("_up_since", up, now)
            e_down = self._timer("_down_since", down, now)
            delay = None
            if e_up is not None:
                target_ph, delay, el = 3, s.phase_up_delay_s, e_up
            elif e_down is not None:
                target_ph, delay, el = 1, s.phase_down_delay_s, e_down
            if delay is not None:
                wait = max(delay - el, 0.0)
                if self._last_phase_switch is not None:
                    wait = max(wait, s.min_phase_switch_interval_s - since_switch)
                if wait <= _EPS:
                    self._up_since = self._down_since = None
                    cur = self._current_for(avail, target_ph, v, max_a)
                    return commit(
                        True,
                        cur,
                        target_ph,
                        Status.PHASE_SWITCHING,
                        Reason(
                            ReasonCode.PHASE_SWITCHING,
                            {
                                "phases": target_ph,
                                "remaining_s": round(s.phase_switch_duration_s),
                            },
                        ),
                    )
                pending = Reason(
                    ReasonCode.PHASE_SWITCH_DELAY,
                    {"phases": target_ph, "remaining_s": round(wait)},
                )
            else:
                pending = None
        else:
            pending = None

        cur = self._current_for(avail, ph, v, max_a)
        min_ph = self.min_power_w(ph, v)
        low = ema < min_ph - s.disable_threshold_w
        held = False
        if low and s.hold_window_s > 0 and self._hold is not None and self._hold >= min_ph - _EPS:
            # A dip, not a lack of surplus: the long average still pays for min current.
            low = False
            held = True
        if minpv or battery_state in ("buffer", "buffer_start"):
            self._disable_since = None
            if low or avail < min_ph:
                code = (
                    ReasonCode.BATTERY_BUFFER
                    if (battery_state in ("buffer", "buffer_start") and not minpv)
                    else ReasonCode.MIN_CURRENT
                )
                return commit(
                    True,
                    cur,
                    ph,
                    Status.CHARGING,
                    pending or Reason(code, {"current_a": cur, "phases": ph}),
                )
            return commit(
                True,
                cur,
                ph,
                Status.CHARGING,
                pending
                or Reason(
                    ReasonCode.SURPLUS,
                    {"surplus_w": round(avail), "current_a": cur, "phases": ph},
                ),
            )
        # A 3p loadpoint that could go 1p handles low surplus by switching down first.
        if ph == 3 and 1 in allowed and ema >= min1 - s.disable_threshold_w:
            low = False
        elapsed = self._timer("_disable_since", low, now)
        if elapsed is not None:
            on_for = (
                math.inf if self._last_enable_change is None else now - self._last_enable_change
            )
            if on_for < s.min_on_time_s - _EPS:
                return commit(
                    True,
                    cur,
                    ph,
                    Status.WAITING_DISABLE,
                    Reason(
                        ReasonCode.MIN_ON_TIME,
                        {"remaining_s": round(s.min_on_time_s - on_for)},
                    ),
                )
            if elapsed < s.disable_delay_s - _EPS:
                return commit(
                    True,
                    cur,
                    ph,
                    Status.WAITING_DISABLE,
                    Reason(
                        ReasonCode.DISABLE_DELAY,
                        {"remaining_s": round(s.disable_delay_s - elapsed)},
                    ),
                )
            if avail >= min_ph - s.disable_threshold_w:
                # The surplus is back already (the average lags): no stop now; the timer
                # runs on, so the next cycle without surplus stops.
                return commit(
                    True,
                    cur,
                    ph,
                    Status.WAITING_DISABLE,
                    Reason(ReasonCode.DISABLE_DELAY, {"remaining_s": 0}),
                )
            self._disable_since = None
            self._enable_since = None
            code = (
                ReasonCode.BATTERY_PRIORITY
                if battery_state == "priority"
                else ReasonCode.NO_SURPLUS
            )
            return commit(
                False,
                cur,
                ph,
                Status.IDLE,
                Reason(code, {"surplus_w": round(ema), "needed_w": round(min_ph)}),
            )
        if (
            lp.charging is False
            and lp.power_w <= 0
            and self._last_enable_change is not None
            and now - self._last_enable_change > 120
        ):
            return commit(True, cur, ph, Status.COMPLETE, Reason(ReasonCode.VEHICLE_FULL))
        if pending is not None:
            return commit(True, cur, ph, Status.CHARGING, pending)
        if cur >= max_a - _EPS and max_a < s.max_current_a - _EPS:
            return commit(
                True, cur, ph, Status.CHARGING, Reason(ReasonCode.FUSE_LIMIT, {"limit_a": max_a})
            )
        if held:
            return commit(
                True,
                cur,
                ph,
                Status.CHARGING,
                Reason(ReasonCode.MIN_CURRENT, {"current_a": cur, "phases": ph}),
            )
        return commit(
            True,
            cur,
            ph,
            Status.CHARGING,
            Reason(
                ReasonCode.SURPLUS,
                {"surplus_w": round(avail), "current_a": cur, "phases": ph},
            ),
        )


class SiteController:
    """Shares one site's surplus among loadpoints by priority and runs their controllers.

    ``loadpoints`` maps a caller-chosen id to settings. Add/remove loadpoints with
    :meth:`add_loadpoint` / :meth:`remove_loadpoint`.
    """

    def __init__(
        self,
        settings: SiteSettings | None = None,
        loadpoints: Mapping[str, LoadpointSettings] | None = None,
    ) -> None:
        """Create a site with optional loadpoints."""
        self.settings = settings or SiteSettings()
        self.loadpoints: dict[str, LoadpointController] = {}
        for lp_id, lps in (loadpoints or {}).items():
            self.add_loadpoint(lp_id, lps)

    def add_loadpoint(
        self, lp_id: str, settings: LoadpointSettings | None = None
    ) -> LoadpointController:
        """Add a loadpoint (replaces one with the same id)."""
        ctl = LoadpointController(settings)
        self.loadpoints[lp_id] = ctl
        return ctl

    def remove_loadpoint(self, lp_id: str) -> None:
        """Remove a loadpoint."""
        self.loadpoints.pop(lp_id, None)

    def set_mode(self, lp_id: str, mode: ChargeMode | str) -> None:
        """Change one loadpoint's mode."""
        self.loadpoints[lp_id].set_mode(mode)

    def set_plan(self, lp_id: str, plan: DeparturePlan | None) -> None:
        """Set or clear one loadpoint's departure plan."""
        self.loadpoints[lp_id].set_plan(plan)

    def battery_state(self, site: SiteInputs) -> str | None:
        """'priority', 'buffer_start', 'buffer' or None from the home battery SoC."""
        s = self.settings
        soc = site.battery_soc
        if soc is None:
            return None
        if s.priority_soc is not None and soc < s.priority_soc:
            return "priority"
        if s.buffer_start_soc is not None and soc >= s.buffer_start_soc:
            return "buffer_start"
        if s.buffer_soc is not None and soc >= s.buffer_soc:
            return "buffer"
        return None

    def available_power_w(self, site: SiteInputs, inputs: Mapping[str, LoadpointInputs]) -> float:
        """Raw surplus for all loadpoints together (export + what they draw)."""
        grid = site.grid_power_w or 0.0
        avail = -grid + sum(max(0.0, i.power_w) for i in inputs.values())
        bat = site.battery_power_w
        if bat is not None:
            state = self.battery_state(site)
            if bat > 0:
                # Never feed the car from the battery (buffer handles min current).
                avail -= bat
            elif state != "priority" and site.battery_soc is not None:
                # Battery charging above its priority SoC: the car may take that power.
                avail += -bat
        return avail

    def update(
        self, site: SiteInputs, inputs: Mapping[str, LoadpointInputs]
    ) -> dict[str, Decision]:
        """Run one cycle. ``inputs`` must hold every loadpoint id; missing = disconnected."""
        s = self.settings
        v = s.voltage_v
        remaining = self.available_power_w(site, inputs)
        total = remaining
        bstate = self.battery_state(site)
        room: list[float] | None = None
        if s.fuse_limit_a is not None:
            if site.grid_phase_currents_a is not None:
                room = [s.fuse_limit_a - g for g in site.grid_phase_currents_a]
                for i in inputs.values():
                    if i.phase_currents_a is not None:
                        room = [
                            r + max(0.0, c) for r, c in zip(room, i.phase_currents_a, strict=True)
                        ]
            else:
                room = [s.fuse_limit_a] * 3
        order = sorted(self.loadpoints.items(), key=lambda kv: -kv[1].settings.priority)
        out: dict[str, Decision] = {}
        for lp_id, ctl in order:
            lp = inputs.get(lp_id, LoadpointInputs(connected=False))
            max_a = None
            if room is not None:
                # conservative: a loadpoint that may use 3 phases must fit on all three
                phases_used: Sequence[float] = room if ctl.settings.phases_max == 3 else room[:1]
                max_a = max(0.0, min(phases_used))
            d = ctl.step(
                site,
                lp,
                remaining,
                settings=s,
                max_current_a=max_a,
                battery_state=bstate,
                total_available_w=total,
            )
            if d.enable:
                remaining -= d.target_power_w
            elif d.status == Status.WAITING_ENABLE:
                remaining -= ctl.min_power_w(1 if 1 in ctl._phases_allowed() else 3, v)
            if room is not None and d.enable:
                n = d.phases
                room = [r - (d.current_a if k < n else 0.0) for k, r in enumerate(room)]
            out[lp_id] = d
        return out


def with_defaults(**kw: Any) -> LoadpointSettings:
    """Convenience: LoadpointSettings with overrides (used by tests and the benchmark)."""
    return replace(LoadpointSettings(), **kw)
