"""Run every controller and the optimum on profiles and aggregate the metrics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .controllers import FACTORIES
from .data import Profile
from .optimum import optimum
from .sim import Trace, metrics, scenario, simulate

NAMES = ("hems", "evcc_like", "openwb_like", "naive", "optimum")
SUMMED = (
    "solar_kwh",
    "grid_kwh",
    "export_while_plugged_kwh",
    "starts",
    "phase_switches",
    "missing_at_departure_kwh",
)


@dataclass
class Run:
    """Traces of one profile."""

    profile: Profile
    traces: dict[str, Trace]
    metrics: dict[str, dict[str, float]]


def run_profile(profile: Profile, scen_name: str, names: Sequence[str] = NAMES) -> Run:
    """Simulate all controllers and solve the optimum on one profile."""
    scen = scenario(scen_name, profile)
    traces: dict[str, Trace] = {}
    for name in names:
        if name == "optimum":
            traces[name] = optimum(profile, scen)
        else:
            traces[name] = simulate(profile, scen, FACTORIES[name])
    return Run(profile, traces, {k: metrics(t, profile) for k, t in traces.items()})


def aggregate(runs: Sequence[Run]) -> dict[str, dict[str, float]]:
    """Sum metrics over runs and add solar_share and pct_of_optimum."""
    out: dict[str, dict[str, float]] = {}
    names = list(runs[0].metrics)
    for name in names:
        m = {key: round(sum(r.metrics[name][key] for r in runs), 2) for key in SUMMED}
        m["starts"] = int(m["starts"])
        m["phase_switches"] = int(m["phase_switches"])
        total = m["solar_kwh"] + m["grid_kwh"]
        m["solar_share"] = round(m["solar_kwh"] / total, 4) if total > 0 else 0.0
        out[name] = m
    opt = out.get("optimum", {}).get("solar_kwh", 0.0)
    for m in out.values():
        m["pct_of_optimum"] = round(100 * m["solar_kwh"] / opt, 2) if opt > 0 else 100.0
    return out
