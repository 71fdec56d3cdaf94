"""Profiles for the PV-surplus benchmark: CSV files, real PV data and a household load.

A :class:`Profile` holds PV and household load power on a fixed grid of ``dt`` seconds
(the simulation step). Sources:

* ``load_csv``: a user file with columns ``time,pv_w,load_w`` (ISO 8601 times, any fixed
  step from 1 s to 15 min), linearly interpolated to ``dt``.
* ``real_profile``: NREL PVDAQ system 50 (Golden, Colorado; 15-min AC power,
  2011-2013; bundled in the MIT-licensed ``pvanalytics`` wheel, fetched once with
  ``pip download --no-deps pvanalytics`` into ``.cache/surplus/``), scaled by
  ``PV_SCALE`` to a ~8.4 kWp household roof, plus :func:`household_load`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
import datetime as dt_mod
import io
from pathlib import Path
import subprocess
import sys
import zipfile

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "surplus"
PVANALYTICS_FILE = "pvanalytics/data/system_50_ac_power_2_full_DST.parquet"
PV_SCALE = 2.5
"""System 50's inverter 2 peaks at 3.4 kW; x2.5 gives an ~8.4 kW peak household roof."""

# The two real-data months used by default (see docs/benchmarks.md).
MONTHS = {
    "sunny": (dt_mod.date(2012, 6, 1), 30),  # June 2012, day-to-day CV 0.21, no gaps
    "changeable": (dt_mod.date(2013, 4, 1), 30),  # April 2013, day-to-day CV 0.49
}


@dataclass
class Profile:
    """PV and household load on a fixed grid starting at ``start`` (local time)."""

    start: dt_mod.datetime
    dt: float
    pv_w: FloatArray
    load_w: FloatArray

    @property
    def n(self) -> int:
        """Number of steps."""
        return len(self.pv_w)

    @property
    def surplus_w(self) -> FloatArray:
        """PV minus household load (negative = deficit)."""
        return self.pv_w - self.load_w

    def sun_hours_left(self) -> FloatArray:
        """Hours until the day's PV ends (a stand-in for astronomical sunset, which the
        controller gets from HA's sun entity); 0 after it."""
        out = np.zeros(self.n)
        for _, sl in self.day_slices():
            pv = self.pv_w[sl]
            lit = np.nonzero(pv > 0.005 * max(float(pv.max()), 1.0))[0]
            if len(lit) == 0:
                continue
            last = sl.start + int(lit[-1])
            idx = np.arange(sl.start, last)
            out[idx] = (last - idx) * self.dt / 3600.0
        return out

    def day_slices(self) -> list[tuple[dt_mod.date, slice]]:
        """Index ranges of each calendar day."""
        per_day = round(86400 / self.dt)
        offset = round(
            (self.start - self.start.replace(hour=0, minute=0, second=0)).total_seconds() / self.dt
        )
        out = []
        i = 0
        day = self.start.date()
        first = per_day - offset
        end = first
        while i < self.n:
            out.append((day, slice(i, min(end, self.n))))
            i = end
            end += per_day
            day += dt_mod.timedelta(days=1)
        return out


def _interp(t_src: FloatArray, v_src: FloatArray, n: int, dt: float) -> FloatArray:
    t = np.arange(n) * dt
    return np.interp(t, t_src, v_src).astype(np.float64)


def load_csv(path: str | Path, dt: float = 5.0) -> Profile:
    """Read ``time,pv_w,load_w`` and resample to ``dt`` seconds (linear)."""
    times: list[dt_mod.datetime] = []
    pv: list[float] = []
    load: list[float] = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"time", "pv_w", "load_w"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        for row in reader:
            times.append(dt_mod.datetime.fromisoformat(row["time"]))
            pv.append(max(0.0, float(row["pv_w"])))
            load.append(max(0.0, float(row["load_w"])))
    if len(times) < 2:
        raise ValueError(f"{path}: need at least two rows")
    t0 = times[0]
    ts = np.array([(t - t0).total_seconds() for t in times])
    steps = np.diff(ts)
    if np.any(steps <= 0):
        raise ValueError(f"{path}: times must increase")
    step = float(np.median(steps))
    if not 1.0 <= step <= 900.0:
        raise ValueError(f"{path}: step {step:g} s outside 1 s .. 15 min")
    n = int((ts[-1] + step) // dt)
    return Profile(
        start=t0.replace(tzinfo=None),
        dt=dt,
        pv_w=_interp(ts, np.array(pv), n, dt),
        load_w=_interp(ts, np.array(load), n, dt),
    )


def household_load(
    start: dt_mod.datetime, n: int, dt: float, seed: int = 1, annual_kwh: float = 4000.0
) -> FloatArray:
    """A synthetic 1-min household load (W), resampled to ``dt``.

    Base load with a morning and evening shape plus random appliance events: kettle
    (2 kW, 3 min), cooking (1.5-3 kW, 20-50 min around noon and evening), washing
    machine / dishwasher (2 kW heating 15 min then 200 W), fridge cycles, TV/PC. Seeded,
    deterministic. About ``annual_kwh`` per year.
    """
    rng = np.random.default_rng(seed)
    minutes = int(n * dt // 60) + 2
    t_min = np.arange(minutes)
    hour = ((start.hour * 60 + start.minute + t_min) % 1440) / 60.0
    base = (
        180.0
        + 120.0 * np.exp(-((hour - 7.5) ** 2) / 1.5)
        + 250.0 * np.exp(-((hour - 19.5) ** 2) / 4.0)
    )
    load = base + 60.0 * (np.sin(t_min / 13.0) > 0.3)  # fridge compressor
    days = minutes // 1440 + 1
    m0 = start.hour * 60 + start.minute
    for d in range(days):
        off = d * 1440 - m0

        def add(at_h: float, dur_min: float, watts: float, _off: int = off) -> None:
            a = int(_off + at_h * 60)
            b = int(a + dur_min)
            a, b = max(a, 0), min(b, minutes)
            if a < b:
                load[a:b] += watts

        for _ in range(rng.poisson(5)):  # kettle / coffee / toaster
            add(rng.uniform(6.5, 22.0), rng.uniform(2, 5), rng.uniform(1200, 2200))
        add(rng.normal(12.3, 0.5), rng.uniform(20, 50), rng.uniform(1500, 3000))  # lunch
        add(rng.normal(18.5, 0.6), rng.uniform(30, 60), rng.uniform(1500, 3000))  # dinner
        for _ in range(rng.poisson(1.2)):  # washing machine / dishwasher / dryer
            at = rng.uniform(8.0, 20.0)
            add(at, 15, 2000)
            add(at + 0.25, rng.uniform(60, 120), 200)
        for _ in range(rng.poisson(3)):  # vacuum, hair dryer, oven, ...
            add(rng.uniform(8.0, 21.0), rng.uniform(5, 30), rng.uniform(600, 2000))
        add(rng.uniform(19.0, 21.0), rng.uniform(90, 180), 150)  # TV
    load += rng.normal(0.0, 25.0, minutes)
    load = np.clip(load, 80.0, None)
    scale = annual_kwh / (float(load.mean()) * 8.76)
    load *= scale
    return _interp(t_min * 60.0, load, n, dt)


def _wheel() -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    found = sorted(CACHE.glob("pvanalytics-*.whl"))
    if found:
        return found[-1]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "-q",
            "-d",
            str(CACHE),
            "pvanalytics",
        ],
        check=True,
    )
    found = sorted(CACHE.glob("pvanalytics-*.whl"))
    if not found:
        raise RuntimeError("pip download pvanalytics produced no wheel")
    return found[-1]


def pvdaq_system50() -> tuple[list[dt_mod.datetime], FloatArray]:
    """15-min AC power (W) of PVDAQ system 50 with naive local timestamps (cached .npz)."""
    npz = CACHE / "system50.npz"
    if npz.exists():
        z = np.load(npz)
        t0 = dt_mod.datetime.fromisoformat(str(z["t0"]))
        return [t0 + dt_mod.timedelta(seconds=float(s)) for s in z["sec"]], z["w"]
    import pyarrow.parquet as pq  # only needed once, to fill the cache

    with zipfile.ZipFile(_wheel()) as zf:
        table = pq.read_table(io.BytesIO(zf.read(PVANALYTICS_FILE)))
    times = [t.replace(tzinfo=None) for t in table.column(0).to_pylist()]
    w = np.array(table.column(1).to_numpy(zero_copy_only=False), dtype=np.float64)
    t0 = times[0]
    sec = np.array([(t - t0).total_seconds() for t in times])
    np.savez(npz, t0=t0.isoformat(), sec=sec, w=w)
    return times, w


def real_profile(first_day: dt_mod.date, days: int, dt: float = 5.0, seed: int = 1) -> Profile:
    """``days`` days of scaled PVDAQ system 50 from ``first_day`` plus a household load."""
    times, w = pvdaq_system50()
    start = dt_mod.datetime.combine(first_day, dt_mod.time())
    end = start + dt_mod.timedelta(days=days)
    sec = np.array([(t - start).total_seconds() for t in times])
    sel = (sec >= -3600) & (sec <= (end - start).total_seconds() + 3600)
    s, v = sec[sel], w[sel]
    good = ~np.isnan(v)
    # Gaps (NaN) are bridged linearly; values are instantaneous-ish 15-min samples.
    n = round(days * 86400 / dt)
    pv = np.clip(_interp(s[good], v[good], n, dt), 0.0, None) * PV_SCALE
    return Profile(start=start, dt=dt, pv_w=pv, load_w=household_load(start, n, dt, seed))
