"""Perfect-foresight optimum: one MILP per plug-in session (scipy.optimize.milp / HiGHS).

Time grid: 5-min blocks (the simulation runs at 5 s; 5-min blocks keep a multi-day
session tractable on 2 cores). Within a block the charging power is constant; the solar
it captures is computed against the 1-min surplus samples of that block (u_k <= P,
u_k <= surplus_k), so short load spikes inside a block are not averaged away.

Per daylight block (PV > 0 inside the session): phase state phi (1 = 3p), on-1p b1,
on-3p b3, integer currents i1, i3 in {0} u [6, 16] A, start s >= on_t - on_{t-1},
phase switch w >= |phi_t - phi_{t-1}|, minimum on-time (10 min = 2 blocks: a start
keeps the car on for 2 blocks). Night blocks (no PV) are aggregated: grid energy G at up to
11 kW, placed as late as possible before departure, one start if used.

Objective: maximise solar_kwh - LAMBDA_GRID * grid_kwh - START_COST * starts -
SWITCH_COST * switches (costs in kWh). Constraints: the car cannot go above its limit
SoC and must reach the departure target when that is physically possible.

Not modelled (they make the optimum slightly optimistic): the 10 s start delay, the 5 s
current delay, the 60 s pause of a phase switch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from .data import Profile
from .sim import CAPACITY_KWH, EFFICIENCY, MAX_A, MIN_A, VOLTAGE, Scenario, Trace

BLOCK_S = 300.0
SUB_S = 60.0
LAMBDA_GRID = 1.0
START_COST = 0.1
SWITCH_COST = 0.1
MIN_ON_BLOCKS = 2
TIME_LIMIT_S = 60.0


@dataclass
class _Var:
    n: int = 0

    def take(self, k: int) -> np.ndarray:
        idx = np.arange(self.n, self.n + k)
        self.n += k
        return idx


def _solve_session(
    sub: np.ndarray, day_ids: np.ndarray, dead_blocks: int, room_kwh: float, need_kwh: float
) -> tuple[np.ndarray, float, int, int]:
    """Return (power per active block W, night grid kWh, starts, switches)."""
    nb, k = sub.shape
    h = BLOCK_S / 3600.0
    pmax = MAX_A * VOLTAGE * 3
    night_cap = dead_blocks * pmax * h / 1000
    active_cap = nb * pmax * h / 1000
    need_kwh = min(need_kwh, room_kwh, night_cap + active_cap)
    if nb == 0:
        g = max(0.0, need_kwh)
        return np.zeros(0), g, int(g > 0), 0
    v = _Var()
    phi, b1, b3 = v.take(nb), v.take(nb), v.take(nb)
    i1, i3 = v.take(nb), v.take(nb)
    s, w = v.take(nb), v.take(nb)
    u = v.take(nb * k).reshape(nb, k)
    g = v.take(1)[0]
    gb = v.take(1)[0]
    n = v.n
    c = np.zeros(n)
    lo = np.zeros(n)
    hi = np.full(n, np.inf)
    integ = np.zeros(n)
    for arr in (phi, b1, b3, gb):
        hi[arr] = 1
        integ[arr] = 1
    hi[i1] = hi[i3] = MAX_A
    integ[i1] = integ[i3] = 1
    hi[s] = hi[w] = 1
    hi[u] = np.clip(sub, 0.0, None)
    hi[g] = night_cap
    e = VOLTAGE * h / 1000  # kWh per amp-block per phase
    # objective (minimise): -(1+L) * solar + L * energy + costs
    c[u] = -(1 + LAMBDA_GRID) * h / 1000 / k
    c[i1] = LAMBDA_GRID * e
    c[i3] = LAMBDA_GRID * e * 3
    c[g] = LAMBDA_GRID
    c[s] = START_COST
    c[w] = SWITCH_COST
    c[gb] = START_COST
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    rlo: list[float] = []
    rhi: list[float] = []
    r = 0

    def add(terms: list[tuple[int, float]], low: float, high: float) -> None:
        nonlocal r
        for col, val in terms:
            rows.append(r)
            cols.append(int(col))
            vals.append(val)
        rlo.append(low)
        rhi.append(high)
        r += 1

    inf = np.inf
    for t in range(nb):
        add([(b1[t], 1), (phi[t], 1)], -inf, 1)  # 1p only when phase state is 1p
        add([(b3[t], 1), (phi[t], -1)], -inf, 0)  # 3p only when phase state is 3p
        add([(i1[t], 1), (b1[t], -MIN_A)], 0, inf)
        add([(i1[t], 1), (b1[t], -MAX_A)], -inf, 0)
        add([(i3[t], 1), (b3[t], -MIN_A)], 0, inf)
        add([(i3[t], 1), (b3[t], -MAX_A)], -inf, 0)
        for j in range(k):
            add([(u[t, j], 1), (i1[t], -VOLTAGE), (i3[t], -3 * VOLTAGE)], -inf, 0)
        first = t == 0 or day_ids[t] != day_ids[t - 1]
        if first:
            add([(s[t], 1), (b1[t], -1), (b3[t], -1)], 0, inf)
        else:
            add([(s[t], 1), (b1[t], -1), (b3[t], -1), (b1[t - 1], 1), (b3[t - 1], 1)], 0, inf)
            add([(w[t], 1), (phi[t], -1), (phi[t - 1], 1)], 0, inf)
            add([(w[t], 1), (phi[t], 1), (phi[t - 1], -1)], 0, inf)
        # minimum on-time: a start at t keeps the car on for MIN_ON_BLOCKS blocks
        span = [t + d for d in range(MIN_ON_BLOCKS) if t + d < nb and day_ids[t + d] == day_ids[t]]
        if len(span) > 1:
            add(
                [(b1[q], 1) for q in span] + [(b3[q], 1) for q in span] + [(s[t], -len(span))],
                0,
                inf,
            )
    add([(g, 1), (gb, -night_cap)], -inf, 0)
    energy = [(i1[t], e) for t in range(nb)] + [(i3[t], 3 * e) for t in range(nb)] + [(g, 1)]
    add(energy, max(0.0, need_kwh - 1e-6), room_kwh)
    a = coo_matrix((vals, (rows, cols)), shape=(r, n)).tocsr()
    res = milp(
        c,
        constraints=LinearConstraint(a, np.array(rlo), np.array(rhi)),
        integrality=integ,
        bounds=Bounds(lo, hi),
        options={"time_limit": TIME_LIMIT_S, "mip_rel_gap": 1e-3, "disp": False},
    )
    if res.x is None:
        raise RuntimeError(f"optimum MILP failed: {res.message}")
    x = res.x
    p = VOLTAGE * (np.round(x[i1]) + 3 * np.round(x[i3]))
    on = (np.round(x[b1]) + np.round(x[b3])) > 0.5
    phs = np.round(x[phi])
    starts = 0
    switches = 0
    for t in range(nb):
        first = t == 0 or day_ids[t] != day_ids[t - 1]
        if on[t] and (first or not on[t - 1]):
            starts += 1
        if not first and phs[t] != phs[t - 1]:
            switches += 1
    gk = float(x[g]) if x[g] > 1e-6 else 0.0
    return p, gk, starts + int(gk > 0), switches


def optimum(profile: Profile, scen: Scenario) -> Trace:
    """Solve every session in order (arrival SoC follows from the previous solution)."""
    dt = profile.dt
    per_block = round(BLOCK_S / dt)
    per_sub = round(SUB_S / dt)
    n = profile.n
    car_w = np.zeros(n)
    plugged = np.zeros(n, dtype=bool)
    wants = np.zeros(n, dtype=bool)
    trace = Trace("optimum", car_w, plugged, wants)
    soc = scen.initial_soc
    limit = scen.limit_soc
    surplus = profile.surplus_w
    pv = profile.pv_w
    days = np.zeros(n, dtype=int)
    for d, (_, sl) in enumerate(profile.day_slices()):
        days[sl] = d
    for sess in scen.sessions:
        a0 = sess.arrive
        nblk = (sess.depart - a0) // per_block
        blocks = [(a0 + b * per_block, a0 + (b + 1) * per_block) for b in range(nblk)]
        active = [b for b, (x0, x1) in enumerate(blocks) if pv[x0:x1].max() > 0]
        dead = [b for b in range(nblk) if b not in set(active)]
        sub = np.array(
            [surplus[blocks[b][0] : blocks[b][1]].reshape(-1, per_sub).mean(axis=1) for b in active]
        ).reshape(len(active), per_block // per_sub)
        day_ids = np.array([days[blocks[b][0]] for b in active], dtype=int)
        # mark gaps inside a day (a dead block between active ones) as a new segment
        for j in range(1, len(active)):
            if active[j] != active[j - 1] + 1:
                day_ids[j:] += 1000
        room = max(0.0, (limit - soc) / 100 * CAPACITY_KWH / EFFICIENCY)
        need = max(0.0, (sess.target_soc - soc) / 100 * CAPACITY_KWH / EFFICIENCY)
        p, gk, st, sw = _solve_session(sub, day_ids, len(dead), room, need)
        for j, b in enumerate(active):
            car_w[blocks[b][0] : blocks[b][1]] = p[j]
        # night grid energy as late as possible before departure
        rest = gk * 1000 * 3600  # J
        pmax = MAX_A * VOLTAGE * 3
        for b in reversed(dead):
            if rest <= 0:
                break
            x0, x1 = blocks[b]
            for i in range(x1 - 1, x0 - 1, -1):
                if rest <= 0:
                    break
                car_w[i] = min(pmax, rest / dt)
                rest -= car_w[i] * dt
        trace.starts += st
        trace.phase_switches += sw
        plugged[sess.arrive : sess.depart] = True
        # SoC bookkeeping at simulation resolution
        for i in range(sess.arrive, sess.depart):
            wants[i] = soc < limit - 1e-9
            if car_w[i] > 0:
                if soc >= limit - 1e-9:
                    car_w[i] = 0.0
                    continue
                soc = min(limit, soc + car_w[i] * dt / 3.6e6 * EFFICIENCY / CAPACITY_KWH * 100)
        trace.departures.append((soc, sess.target_soc))
        if sess.depart < n:
            trace.missing_kwh += max(0.0, sess.target_soc - soc) / 100 * CAPACITY_KWH
        soc = max(0.0, soc - sess.trip_kwh / CAPACITY_KWH * 100)
    return trace
