"""Fast test of the surplus benchmark pipeline on a tiny generated profile."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
import sys

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scripts.surplus.data import household_load, load_csv  # noqa: E402

KEYS = {
    "solar_kwh",
    "grid_kwh",
    "solar_share",
    "export_while_plugged_kwh",
    "starts",
    "phase_switches",
    "missing_at_departure_kwh",
    "pct_of_optimum",
}


def _write_profile(path: Path, days: int = 2, step_s: int = 300) -> None:
    start = dt.datetime(2024, 6, 3)  # a Monday
    n = days * 86400 // step_s
    load = household_load(start, n, float(step_s), seed=3)
    lines = ["time,pv_w,load_w"]
    for i in range(n):
        t = start + dt.timedelta(seconds=i * step_s)
        h = t.hour + t.minute / 60
        pv = max(0.0, 8000 * math.sin(math.pi * (h - 6) / 14)) if 6 < h < 20 else 0.0
        if t.day == 4 and 11 <= h < 13:
            pv *= 0.3  # a cloudy spell on day two
        lines.append(f"{t.isoformat()},{pv:.0f},{load[i]:.0f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_pipeline_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.machinery
    import importlib.util

    csv_path = tmp_path / "p.csv"
    _write_profile(csv_path)
    loader = importlib.machinery.SourceFileLoader(
        "bench_cli", str(ROOT / "scripts" / "benchmark_surplus")
    )
    spec = importlib.util.spec_from_loader("bench_cli", loader)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    assert mod.main(["--profile", str(csv_path), "--scenario", "home-office", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    ctl = out["controllers"]
    assert set(ctl) == {"hems", "evcc_like", "openwb_like", "naive", "optimum"}
    for m in ctl.values():
        assert set(m) >= KEYS
        assert 0.0 <= m["solar_share"] <= 1.0
        assert m["starts"] >= 0
        assert m["phase_switches"] >= 0
    opt = ctl["optimum"]
    assert opt["solar_kwh"] > 5.0
    assert opt["pct_of_optimum"] == 100.0
    for name, m in ctl.items():
        # the perfect-foresight optimum captures at least as much solar as anyone
        assert m["solar_kwh"] <= opt["solar_kwh"] * 1.0001, name
        assert m["pct_of_optimum"] <= 100.01
    assert ctl["hems"]["missing_at_departure_kwh"] <= opt["missing_at_departure_kwh"] + 1e-6
    # and a human-readable table without --json
    assert mod.main(["--profile", str(csv_path), "--controllers", "hems,naive"]) == 0
    assert "| hems |" in capsys.readouterr().out


def test_load_csv_resamples_and_rejects_bad_input(tmp_path: Path) -> None:
    good = tmp_path / "g.csv"
    good.write_text(
        "time,pv_w,load_w\n2024-06-03T12:00:00,1000,200\n2024-06-03T12:15:00,2000,400\n",
        encoding="utf-8",
    )
    p = load_csv(good, dt=5.0)
    assert p.n == 360
    assert p.pv_w[0] == 1000
    assert p.pv_w[180] == pytest.approx(2000)
    bad = tmp_path / "b.csv"
    bad.write_text("time,pv\n2024-06-03T12:00:00,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing columns"):
        load_csv(bad)
    coarse = tmp_path / "c.csv"
    coarse.write_text(
        "time,pv_w,load_w\n2024-06-03T12:00:00,1,1\n2024-06-03T13:00:00,1,1\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="outside"):
        load_csv(coarse)
