"""PNG of one sunny and one cloudy day: surplus and each controller's charging power."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def _pick_days(runs: Mapping[str, Any]) -> list[tuple[str, Any, slice]]:
    picks = []
    for label, key, score in (
        ("sunny", "sunny", lambda pv: pv.sum()),
        ("cloudy", "changeable", lambda pv: np.abs(np.diff(pv)).sum() / max(pv.sum(), 1.0)),
    ):
        run = runs.get(key) or next(iter(runs.values()))
        best = None
        for day, sl in run.profile.day_slices():
            plugged = run.traces["hems"].plugged[sl]
            h = run.profile.dt / 3.6e6
            charged = min(
                float(t.car_w[sl].sum()) * h
                for n, t in run.traces.items()
                if n in ("hems", "optimum", "evcc_like")
            )
            if plugged.mean() < 0.95 or charged < 5.0:
                continue
            val = float(score(run.profile.pv_w[sl]))
            if best is None or val > best[0]:
                best = (val, day, sl)
        if best is not None:
            picks.append((f"{label} day {best[1]}", run, best[2]))
    return picks


def plot_days(runs: Mapping[str, Any], path: Path) -> None:
    """Write the plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    picks = _pick_days(runs)
    fig, axes = plt.subplots(len(picks), 1, figsize=(11, 4.2 * len(picks)), squeeze=False)
    for ax, (title, run, sl) in zip(axes[:, 0], picks, strict=True):
        p = run.profile
        hours = (np.arange(sl.start, sl.stop) - sl.start) * p.dt / 3600
        ax.fill_between(
            hours,
            0,
            np.clip(p.surplus_w[sl], 0, None) / 1000,
            color="gold",
            alpha=0.5,
            label="surplus",
        )
        for name, trace in run.traces.items():
            ax.plot(
                hours,
                trace.car_w[sl] / 1000,
                lw=1.6 if name in ("hems", "optimum") else 1,
                label=name,
            )
        ax.set_xlim(5, 20)
        ax.set_ylabel("kW")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("hour of day")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
