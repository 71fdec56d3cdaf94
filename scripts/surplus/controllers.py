"""Controllers under test: ours (adapter), evcc-like, openWB-like and a naive automation.

The evcc-like and openWB-like controllers follow the documented rules and defaults listed
in /work/shared/notes/pv-surplus-anchors.md (re-implemented from those facts, no code
copied). All run in pv mode with a departure plan where the original supports one.
"""

from __future__ import annotations

import math
from pathlib import Path
import sys

from .sim import MAX_A, MIN_A, VOLTAGE, Cmd, Obs

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from custom_components.hems.loadpoint.controller import (
    ChargeMode,
    DeparturePlan,
    LoadpointInputs,
    LoadpointSettings,
    SiteController,
    SiteInputs,
    SiteSettings,
)

PLAN_MARGIN_S = 900.0


def _plan_start(obs: Obs, phases: int = 3) -> float | None:
    """Latest start of full-power grid charging for the departure target, or None."""
    if obs.target_soc is None or obs.departure_t is None or obs.soc >= obs.target_soc:
        return None
    need_kwh = (obs.target_soc - obs.soc) / 100 * 60.0 / 0.9
    dur = need_kwh * 1000 / (MAX_A * VOLTAGE * phases) * 3600
    return obs.departure_t - dur - PLAN_MARGIN_S


class Timer:
    """'Condition true since' helper."""

    def __init__(self) -> None:
        self.since: float | None = None

    def run(self, cond: bool, t: float) -> float:
        """Return how long cond has been true (0 when it just became true, -1 if false)."""
        if not cond:
            self.since = None
            return -1.0
        if self.since is None:
            self.since = t
        return t - self.since


class EvccLike:
    """evcc's pv mode as documented: 30 s loop, 0 W thresholds, 1 min enable / 3 min
    disable delay, no minimum on-time, automatic 1p/3p on the same delays, 60 s blackout
    after a switch, no averaging, planner charges full power at the latest slot."""

    name = "evcc_like"
    cycle_s = 30.0

    def __init__(self) -> None:
        self.enabled = False
        self.phases = 3
        self.current = MIN_A
        self.t_enable = Timer()
        self.t_disable = Timer()
        self.t_up = Timer()
        self.t_down = Timer()
        self.last_switch = -1e9

    def _target(self, obs: Obs, phases: int) -> float:
        if self.enabled and obs.charging:
            eff = min(max(obs.phase_currents_a) + 2.0, self.current)
        else:
            eff = 0.0
        return eff + (-obs.grid_w) / (VOLTAGE * phases)

    def step(self, obs: Obs) -> Cmd:
        t = obs.t
        if not obs.plugged or obs.soc >= obs.limit_soc:
            self.enabled = False
            for tm in (self.t_enable, self.t_disable, self.t_up, self.t_down):
                tm.run(False, t)
            return Cmd(False, self.current, self.phases)
        ps = _plan_start(obs)
        if ps is not None and t >= ps:
            self.enabled, self.current = True, MAX_A
            if self.phases != 3 and t - self.last_switch >= 60:
                self.phases, self.last_switch = 3, t
            return Cmd(True, MAX_A, self.phases)
        if not self.enabled:
            # choose the start phases: 3p if the 3p minimum fits now
            ph = 3 if -obs.grid_w >= MIN_A * VOLTAGE * 3 else 1
            tgt = (-obs.grid_w) / (VOLTAGE * ph)
            if self.t_enable.run(tgt >= MIN_A, t) >= 60:
                self.t_enable.run(False, t)
                self.enabled = True
                if ph != self.phases:
                    self.phases, self.last_switch = ph, t
                self.current = max(MIN_A, min(MAX_A, math.floor(tgt)))
            return Cmd(self.enabled, self.current, self.phases)
        tgt = self._target(obs, self.phases)
        blackout = t - self.last_switch < 60
        if self.phases == 3 and not blackout:
            if self.t_down.run(tgt < MIN_A, t) >= 180:
                self.t_down.run(False, t)
                self.t_disable.run(False, t)
                self.phases, self.last_switch = 1, t
                tgt1 = self._target(obs, 3) * 3
                self.current = max(MIN_A, min(MAX_A, math.floor(tgt1)))
                return Cmd(True, self.current, 1)
        elif self.phases == 1 and not blackout:
            up_ok = tgt > MAX_A and tgt / 3 >= MIN_A
            if self.t_up.run(up_ok, t) >= 60:
                self.t_up.run(False, t)
                self.phases, self.last_switch = 3, t
                self.current = max(MIN_A, min(MAX_A, math.floor(tgt / 3)))
                return Cmd(True, self.current, 3)
        if (self.phases == 1 or blackout) and self.t_disable.run(tgt < MIN_A, t) >= 180:
            self.t_disable.run(False, t)
            self.enabled = False
            return Cmd(False, self.current, self.phases)
        self.current = max(MIN_A, min(MAX_A, math.floor(tgt)))
        return Cmd(True, self.current, self.phases)


class OpenWbLike:
    """openWB's pv rules as documented: 10 s loop, start at 1500 W per phase export for
    30 s, stop after 60 s of import at min current, regulate to 115 W export (band
    0..230 W), at least 7 min between phase switches using measured current +/- 1 A."""

    name = "openwb_like"
    cycle_s = 10.0

    def __init__(self) -> None:
        self.enabled = False
        self.phases = 1
        self.current = MIN_A
        self.t_on = Timer()
        self.t_off = Timer()
        self.t_up = Timer()
        self.t_down = Timer()
        self.last_switch = -1e9

    def step(self, obs: Obs) -> Cmd:
        t = obs.t
        if not obs.plugged or obs.soc >= obs.limit_soc:
            self.enabled = False
            return Cmd(False, self.current, self.phases)
        ps = _plan_start(obs)
        if ps is not None and t >= ps:
            self.enabled, self.current = True, MAX_A
            if self.phases != 3 and t - self.last_switch >= 420:
                self.phases, self.last_switch = 3, t
            return Cmd(True, MAX_A, self.phases)
        export = -obs.grid_w
        if not self.enabled:
            if self.t_on.run(export >= 1500 * self.phases, t) >= 30:
                self.t_on.run(False, t)
                self.enabled = True
                self.current = max(
                    MIN_A, min(MAX_A, math.floor((export - 115) / (VOLTAGE * self.phases)))
                )
            return Cmd(self.enabled, self.current, self.phases)
        measured = max(obs.phase_currents_a)
        # control band: keep export within 0..230 W, aim at 115 W
        if export < 0 or export > 230:
            delta = (export - 115) / (VOLTAGE * self.phases)
            self.current = max(MIN_A, min(MAX_A, math.floor(self.current + delta)))
        can_switch = t - self.last_switch >= 420
        if self.phases == 1 and can_switch:
            spare = export + measured * VOLTAGE
            cond = measured >= MAX_A - 1 and spare >= MIN_A * VOLTAGE * 3
            if self.t_up.run(cond, t) >= 60:
                self.t_up.run(False, t)
                self.phases, self.last_switch = 3, t
                self.current = MIN_A
                return Cmd(True, self.current, 3)
        elif self.phases == 3 and can_switch:
            cond = measured <= MIN_A + 1 and export < 0
            if self.t_down.run(cond, t) >= 60:
                self.t_down.run(False, t)
                self.phases, self.last_switch = 1, t
                self.current = MAX_A
                return Cmd(True, self.current, 1)
        at_min = self.current <= MIN_A
        if self.t_off.run(at_min and export < 0, t) >= 60:
            self.t_off.run(False, t)
            self.enabled = False
        return Cmd(self.enabled, self.current, self.phases)


class Naive:
    """A typical home-made automation: every minute, 1p 10 A on after 2 min of >= 2.3 kW
    export, off after 2 min of > 200 W import. No plan, no current modulation."""

    name = "naive"
    cycle_s = 60.0

    def __init__(self) -> None:
        self.enabled = False
        self.t_on = Timer()
        self.t_off = Timer()

    def step(self, obs: Obs) -> Cmd:
        t = obs.t
        if not obs.plugged:
            self.enabled = False
            return Cmd(False, 10.0, 1)
        if not self.enabled:
            if self.t_on.run(-obs.grid_w >= 2300, t) >= 120:
                self.t_on.run(False, t)
                self.enabled = True
        elif self.t_off.run(obs.grid_w > 200, t) >= 120:
            self.t_off.run(False, t)
            self.enabled = False
        return Cmd(self.enabled, 10.0, 1)


class Hems:
    """Our controller (custom_components/hems/loadpoint/controller.py) in pv mode with a
    departure plan for each session."""

    name = "hems"

    def __init__(self, cycle_s: float = 30.0, **overrides: float) -> None:
        self.cycle_s = cycle_s
        self.settings = LoadpointSettings(
            mode=ChargeMode.PV,
            vehicle_capacity_kwh=60.0,
            charge_efficiency=0.9,
            plan_margin_s=PLAN_MARGIN_S,
            **overrides,  # type: ignore[arg-type]
        )
        self.site = SiteController(SiteSettings(), {"lp": self.settings})
        self._plan_key: tuple[float, float] | None = None

    def step(self, obs: Obs) -> Cmd:
        key = None
        if obs.target_soc is not None and obs.departure_t is not None:
            key = (obs.target_soc, obs.departure_t)
        if key != self._plan_key:
            self._plan_key = key
            self.site.set_plan("lp", DeparturePlan(*key) if key else None)
        d = self.site.update(
            SiteInputs(now=obs.t, grid_power_w=obs.grid_w, sun_hours_left=obs.sun_hours_left),
            {
                "lp": LoadpointInputs(
                    connected=obs.plugged,
                    charging=obs.charging,
                    power_w=obs.car_w,
                    phase_currents_a=obs.phase_currents_a,
                    active_phases=obs.active_phases,
                    vehicle_soc=obs.soc,
                    vehicle_limit_soc=obs.limit_soc,
                    session_energy_kwh=obs.session_kwh,
                )
            },
        )["lp"]
        return Cmd(d.enable, d.current_a if d.enable else MIN_A, d.phases)


FACTORIES = {
    "hems": Hems,
    "evcc_like": EvccLike,
    "openwb_like": OpenWbLike,
    "naive": Naive,
}
