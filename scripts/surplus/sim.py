"""Household + wallbox + car simulation for comparing PV-surplus controllers.

Physics (documented in docs/benchmarks.md):

* simulation step ``profile.dt`` (5 s by default); PV and load come from the profile.
* car: 60 kWh usable, charged with 90 % efficiency (wallbox energy -> battery), accepts
  up to 16 A on 1 or 3 phases at 230 V (3.7 / 11 kW), stops drawing at its limit SoC.
* charger: a start takes effect 10 s after enable; a current change takes effect 5 s
  after the command; a phase switch while charging pauses charging for 60 s (a switch
  while disabled has no pause but still counts: it moves the contactor).
* meters: the controller sees grid power, car power, phase currents and SoC as measured
  at its previous cycle (one cycle lag).
* sessions: a scenario says when the car is plugged in, when it leaves (a departure
  plan: target SoC by that time, known to controllers that support plans) and how much
  each trip uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import datetime as dt_mod
from typing import Protocol

import numpy as np

from .data import FloatArray, Profile

VOLTAGE = 230.0
CAPACITY_KWH = 60.0
EFFICIENCY = 0.9
START_DELAY_S = 10.0
CURRENT_DELAY_S = 5.0
PHASE_PAUSE_S = 60.0
MIN_A = 6.0
MAX_A = 16.0


@dataclass(frozen=True)
class Obs:
    """What a controller sees (one cycle late)."""

    t: float
    grid_w: float
    car_w: float
    phase_currents_a: tuple[float, float, float]
    active_phases: int
    plugged: bool
    charging: bool
    soc: float
    limit_soc: float
    target_soc: float | None
    departure_t: float | None
    session_kwh: float
    sun_hours_left: float = 0.0


@dataclass(frozen=True)
class Cmd:
    """Charger command."""

    enable: bool
    current_a: float
    phases: int


class Controller(Protocol):
    """A controller under test."""

    name: str
    cycle_s: float

    def step(self, obs: Obs) -> Cmd:
        """One control cycle."""


@dataclass(frozen=True)
class Session:
    """One plug-in: step indices [arrive, depart), trip energy used after departure."""

    arrive: int
    depart: int
    target_soc: float
    trip_kwh: float


@dataclass(frozen=True)
class Scenario:
    """Driving pattern."""

    name: str
    limit_soc: float
    initial_soc: float
    sessions: list[Session]


def _at(profile: Profile, day: dt_mod.date, hour: float) -> int:
    t = dt_mod.datetime.combine(day, dt_mod.time()) + dt_mod.timedelta(hours=hour)
    return max(0, min(profile.n, round((t - profile.start).total_seconds() / profile.dt)))


# (weekday -> list of (leave_hour, return_hour, trip_kwh)); weekday 0 = Monday
PATTERNS: dict[str, tuple[dict[int, list[tuple[float, float, float]]], float]] = {
    # leaves 07:30, back 17:30 on weekdays, 12 kWh a day; needs 60 % each morning
    "commuter": ({d: [(7.5, 17.5, 12.0)] for d in range(5)}, 60.0),
    # home office: two office days and a Saturday trip
    "home-office": (
        {1: [(8.0, 17.0, 15.0)], 3: [(8.0, 17.0, 15.0)], 5: [(10.0, 16.0, 20.0)]},
        50.0,
    ),
    # car used on weekends only
    "weekend": ({5: [(9.0, 19.0, 25.0)], 6: [(10.0, 18.0, 15.0)]}, 70.0),
}


def scenario(name: str, profile: Profile) -> Scenario:
    """Sessions of a named scenario over the profile's days."""
    trips, target = PATTERNS[name]
    sessions: list[Session] = []
    arrive = 0
    for day, _ in profile.day_slices():
        for leave_h, back_h, kwh in trips.get(day.weekday(), []):
            leave, back = _at(profile, day, leave_h), _at(profile, day, back_h)
            if leave > arrive:
                sessions.append(Session(arrive, leave, target, kwh))
            arrive = back
    if arrive < profile.n:
        sessions.append(Session(arrive, profile.n, target, 0.0))
    return Scenario(name=name, limit_soc=90.0, initial_soc=40.0, sessions=sessions)


@dataclass
class Trace:
    """Per-step physical result of one controller (W), plus counters."""

    name: str
    car_w: FloatArray
    plugged: np.ndarray
    wants: np.ndarray
    """Plugged in and below the limit SoC."""
    starts: int = 0
    phase_switches: int = 0
    missing_kwh: float = 0.0
    departures: list[tuple[float, float]] = field(default_factory=list)
    """(soc at departure, target)."""


def metrics(trace: Trace, profile: Profile) -> dict[str, float]:
    """The benchmark's metrics from a trace."""
    h = profile.dt / 3600.0
    surplus = np.clip(profile.surplus_w, 0.0, None)
    solar = np.minimum(trace.car_w, surplus)
    grid = trace.car_w - solar
    export = np.where(trace.wants, surplus - solar, 0.0)
    solar_kwh = float(solar.sum() * h / 1000)
    grid_kwh = float(grid.sum() * h / 1000)
    total = solar_kwh + grid_kwh
    return {
        "solar_kwh": round(solar_kwh, 2),
        "grid_kwh": round(grid_kwh, 2),
        "solar_share": round(solar_kwh / total, 4) if total > 0 else 0.0,
        "export_while_plugged_kwh": round(float(export.sum() * h / 1000), 2),
        "starts": trace.starts,
        "phase_switches": trace.phase_switches,
        "missing_at_departure_kwh": round(trace.missing_kwh, 2),
    }


def simulate(
    profile: Profile,
    scen: Scenario,
    make: Callable[[], Controller],
) -> Trace:
    """Run one controller over the whole profile."""
    ctl = make()
    n, dt = profile.n, profile.dt
    pv, load = profile.pv_w, profile.load_w
    car_w = np.zeros(n)
    plugged = np.zeros(n, dtype=bool)
    wants = np.zeros(n, dtype=bool)
    trace = Trace(ctl.name, car_w, plugged, wants)
    soc = scen.initial_soc
    limit = scen.limit_soc
    cyc = max(1, round(ctl.cycle_s / dt))
    # charger state
    enabled = False
    phases = 3
    cur_act = MIN_A
    cur_pending: tuple[float, float] | None = None
    start_at = 0.0
    pause_until = -1e9
    sess_idx = 0
    sessions = scen.sessions
    meas: Obs | None = None
    session_kwh = 0.0
    power = 0.0
    sun_left = profile.sun_hours_left()
    for i in range(n):
        t = i * dt
        s = sessions[sess_idx] if sess_idx < len(sessions) else None
        is_plugged = s is not None and s.arrive <= i < s.depart
        if s is not None and i == s.depart:
            trace.departures.append((soc, s.target_soc))
            trace.missing_kwh += max(0.0, s.target_soc - soc) / 100 * CAPACITY_KWH
            soc = max(0.0, soc - s.trip_kwh / CAPACITY_KWH * 100)
            sess_idx += 1
            session_kwh = 0.0
            s = sessions[sess_idx] if sess_idx < len(sessions) else None
            is_plugged = s is not None and s.arrive <= i < s.depart
        if i % cyc == 0:
            obs_now = Obs(
                t=t,
                grid_w=load[i] + power - pv[i],
                car_w=power,
                phase_currents_a=(
                    (power / VOLTAGE / phases,) * phases + (0.0,) * (3 - phases)  # type: ignore[arg-type]
                ),
                active_phases=phases,
                plugged=is_plugged,
                charging=power > 0,
                soc=soc,
                limit_soc=limit,
                target_soc=s.target_soc if s is not None and is_plugged else None,
                departure_t=s.depart * dt if s is not None and is_plugged else None,
                session_kwh=session_kwh,
            )
            seen = meas if meas is not None else obs_now
            # lag: values from the previous cycle, but plug state and time are current
            seen = Obs(
                t=t,
                grid_w=seen.grid_w,
                car_w=seen.car_w,
                phase_currents_a=seen.phase_currents_a,
                active_phases=seen.active_phases,
                plugged=is_plugged,
                charging=seen.charging,
                soc=seen.soc,
                limit_soc=limit,
                target_soc=obs_now.target_soc,
                departure_t=obs_now.departure_t,
                session_kwh=seen.session_kwh,
                sun_hours_left=float(sun_left[i]),
            )
            meas = obs_now
            cmd = ctl.step(seen)
            cur = min(MAX_A, max(MIN_A, cmd.current_a))
            if cmd.phases != phases:
                trace.phase_switches += 1
                phases = cmd.phases
                if enabled and cmd.enable:
                    pause_until = t + PHASE_PAUSE_S
                cur_act = cur
                cur_pending = None
            if cmd.enable and not enabled:
                trace.starts += 1
                start_at = t + START_DELAY_S
                cur_act = cur
                cur_pending = None
            elif cmd.enable and abs(cur - cur_act) > 1e-9:
                if cur_pending is None or abs(cur_pending[0] - cur) > 1e-9:
                    cur_pending = (cur, t + CURRENT_DELAY_S)
            enabled = cmd.enable
        if cur_pending is not None and t >= cur_pending[1]:
            cur_act = cur_pending[0]
            cur_pending = None
        if is_plugged:
            plugged[i] = True
            wants[i] = soc < limit - 1e-9
        if is_plugged and enabled and t >= start_at and t >= pause_until and soc < limit - 1e-9:
            power = cur_act * VOLTAGE * phases
            kwh = power * dt / 3.6e6
            soc = min(limit, soc + kwh * EFFICIENCY / CAPACITY_KWH * 100)
            session_kwh += kwh
        else:
            power = 0.0
        car_w[i] = power
    return trace
