"""Unit tests of the PV-surplus controller engine (modes, plan, battery, sharing, reasons)."""

from __future__ import annotations

import itertools

import pytest

from custom_components.hems.loadpoint.controller import (
    ChargeMode,
    Decision,
    DeparturePlan,
    LoadpointController,
    LoadpointInputs,
    LoadpointSettings,
    Reason,
    ReasonCode,
    SiteController,
    SiteInputs,
    SiteSettings,
    Status,
    with_defaults,
)


class Loop:
    """A tiny closed loop: the car draws what was commanded, the meter sees it."""

    def __init__(self, site: SiteController, ids: tuple[str, ...] = ("a",)) -> None:
        self.site = site
        self.ids = ids
        self.t = 0.0
        self.power = dict.fromkeys(ids, 0.0)
        self.soc = dict.fromkeys(ids, 50.0)
        self.connected = dict.fromkeys(ids, True)

    def run(
        self, surplus_w: float, seconds: float, cycle: float = 30.0, **site_kw: float | None
    ) -> dict[str, Decision]:
        out: dict[str, Decision] = {}
        end = self.t + seconds
        while self.t < end:
            grid = -surplus_w + sum(self.power.values())
            inputs = {
                i: LoadpointInputs(
                    connected=self.connected[i],
                    charging=self.power[i] > 0,
                    power_w=self.power[i],
                    vehicle_soc=self.soc[i],
                )
                for i in self.ids
            }
            out = self.site.update(SiteInputs(now=self.t, grid_power_w=grid, **site_kw), inputs)
            for i, d in out.items():
                self.power[i] = d.target_power_w
            self.t += cycle
        return out


def one(**kw: object) -> tuple[SiteController, Loop]:
    site = SiteController(SiteSettings(), {"a": with_defaults(**kw)})
    return site, Loop(site)


def test_reason_as_dict() -> None:
    r = Reason(ReasonCode.ENABLE_DELAY, {"remaining_s": 130})
    assert r.as_dict() == {"code": "enable_delay", "remaining_s": 130}


def test_disconnected_and_off() -> None:
    site, loop = one()
    loop.connected["a"] = False
    d = loop.run(5000, 30)["a"]
    assert (d.enable, d.status, d.reason.code) == (False, Status.DISCONNECTED, "disconnected")
    loop.connected["a"] = True
    site.set_mode("a", ChargeMode.OFF)
    d = loop.run(5000, 300)["a"]
    assert (d.enable, d.reason.code) == (False, ReasonCode.MODE_OFF)


def test_pv_enable_delay_then_charge_1p() -> None:
    _, loop = one()
    d = loop.run(2000, 30)["a"]
    assert d.status == Status.WAITING_ENABLE
    assert d.reason.code == ReasonCode.ENABLE_DELAY
    assert d.reason.params["remaining_s"] > 0
    d = loop.run(2000, 120)["a"]
    assert d.enable
    assert d.phases == 1
    assert d.current_a == 8.0  # floor(2000 / 230)
    assert d.reason.code == ReasonCode.SURPLUS


def test_no_surplus_reason() -> None:
    _, loop = one()
    d = loop.run(500, 120)["a"]
    assert not d.enable
    assert d.reason.code == ReasonCode.NO_SURPLUS
    assert d.reason.params["needed_w"] == 1380


def test_min_on_time_then_stop_then_min_off_time() -> None:
    # hold_window_s=0: the timers alone (the hold is tested below)
    _, loop = one(min_off_time_s=900.0, hold_window_s=0.0)
    loop.run(2000, 150)
    d = loop.run(0, 60)["a"]
    assert d.enable
    assert d.status == Status.WAITING_DISABLE
    assert d.reason.code == ReasonCode.MIN_ON_TIME
    d = loop.run(0, 600)["a"]
    assert not d.enable
    assert d.reason.code == ReasonCode.NO_SURPLUS


def test_disable_delay_after_min_on_time() -> None:
    _, loop = one(min_off_time_s=900.0, hold_window_s=0.0)
    loop.run(2000, 900)
    d = loop.run(0, 90)["a"]
    assert d.enable
    assert d.reason.code == ReasonCode.DISABLE_DELAY
    assert 0 < d.reason.params["remaining_s"] <= 180
    d = loop.run(0, 240)["a"]
    assert not d.enable
    assert d.reason.code == ReasonCode.NO_SURPLUS
    # min off-time holds a restart
    codes = []
    for _ in range(80):
        d = loop.run(3000, 15, cycle=15.0)["a"]
        codes.append(d.reason.code)
    assert ReasonCode.MIN_OFF_TIME in codes
    assert d.enable


def test_hold_rides_through_a_dip_the_long_average_covers() -> None:
    _, loop = one()
    loop.run(2000, 1800)
    # 3 min without any surplus: the 10 min average (from 2000 W) still covers 1380 W
    for _ in range(6):
        d = loop.run(0, 30)["a"]
        assert d.enable
    assert d.current_a == 6.0
    assert d.reason.code == ReasonCode.MIN_CURRENT
    d = loop.run(2000, 60)["a"]
    assert d.enable
    assert d.reason.code == ReasonCode.SURPLUS


def test_hold_still_stops_when_the_surplus_is_gone() -> None:
    _, loop = one()
    loop.run(2000, 1800)
    stopped_after = None
    for k in range(1, 60):
        d = loop.run(0, 30)["a"]
        if not d.enable:
            stopped_after = k * 30
            break
    assert d.reason.code == ReasonCode.NO_SURPLUS
    # the 10 min average falls below 1380 W after ~220 s, then the 180 s disable delay
    assert stopped_after is not None
    assert stopped_after <= 600


def test_no_stop_when_the_surplus_is_back_at_the_end_of_the_delay() -> None:
    site, loop = one(hold_window_s=0.0)
    loop.run(2000, 900)
    loop.run(0, 180)  # disable delay runs out on the next cycle ...
    d = loop.run(1400, 30)["a"]  # ... but the surplus is back (the average lags)
    assert d.enable
    assert d.status == Status.WAITING_DISABLE
    d = loop.run(0, 30)["a"]  # gone again: stop at once
    assert not d.enable
    assert d.reason.code == ReasonCode.NO_SURPLUS


def test_bridges_short_dip() -> None:
    _, loop = one()
    loop.run(2500, 900)
    d = loop.run(1000, 120)["a"]  # mild dip: stays on at min current
    assert d.enable
    assert d.current_a == 6.0
    d = loop.run(2500, 60)["a"]
    assert d.enable
    assert d.status == Status.CHARGING


def test_phase_up_and_down_with_interval() -> None:
    _, loop = one(phase_up_min_need_kwh=0.0)
    loop.run(2500, 300)
    codes = set()
    for _ in range(70):
        d = loop.run(8000, 30)["a"]
        codes.add(d.reason.code)
    assert ReasonCode.PHASE_SWITCH_DELAY in codes
    assert d.phases == 3
    assert d.current_a == 11.0
    d = loop.run(2500, 30)["a"]
    assert d.phases == 3
    d = loop.run(2500, 600)["a"]
    assert d.phases == 3  # minimum interval between switches (30 min) holds
    d = loop.run(2500, 1500)["a"]
    assert d.phases == 1


def test_phase_switching_status_right_after_switch() -> None:
    _, loop = one(phase_up_min_need_kwh=0.0, phase_smoothing_s=0.0, smoothing_s=0.0)
    loop.run(3000, 300)
    seen = set()
    for _ in range(70):
        d = loop.run(9000, 30)["a"]
        seen.add(d.status)
    assert Status.PHASE_SWITCHING in seen
    assert d.phases == 3


def test_small_need_stays_1p_with_sun_hours() -> None:
    _, loop = one(phase_up_min_need_kwh=0.0)
    loop.soc["a"] = 85.0  # 15 % of 60 kWh / 0.9 = 10 kWh
    loop.run(2500, 300, sun_hours_left=8.0)
    d = loop.run(9000, 1800, sun_hours_left=8.0)["a"]
    assert d.phases == 1
    assert d.current_a == 16.0
    # with a forecast too small for 1p, it goes 3p
    d = loop.run(9000, 1800, sun_hours_left=8.0, forecast_surplus_kwh=5.0)["a"]
    assert d.phases == 3


def test_single_phase_charger_never_switches() -> None:
    _, loop = one(phases_max=1)
    d = loop.run(11000, 1800)["a"]
    assert d.phases == 1
    assert d.current_a == 16.0


def test_fixed_three_phase() -> None:
    _, loop = one(phase_switching=False)
    d = loop.run(2000, 300)["a"]
    assert not d.enable
    assert d.reason.params["needed_w"] == 4140
    d = loop.run(5000, 300)["a"]
    assert d.enable
    assert d.phases == 3


def test_mode_now_and_minpv() -> None:
    site, loop = one()
    site.set_mode("a", "now")
    d = loop.run(0, 30)["a"]
    assert d.enable
    assert d.current_a == 16.0
    assert d.phases == 3
    assert d.reason.code == ReasonCode.MODE_NOW
    site.set_mode("a", ChargeMode.MINPV)
    d = loop.run(0, 60)["a"]
    assert d.enable
    assert d.current_a == 6.0
    assert d.reason.code in (ReasonCode.MIN_CURRENT, ReasonCode.PHASE_SWITCH_DELAY)
    d = loop.run(0, 1200)["a"]
    assert d.enable
    assert d.phases == 1
    assert d.reason.code == ReasonCode.MIN_CURRENT
    d = loop.run(3000, 60)["a"]
    assert d.enable
    assert d.current_a > 6.0


def test_minpv_starts_immediately() -> None:
    _, loop = one(mode=ChargeMode.MINPV)
    d = loop.run(0, 30)["a"]
    assert d.enable
    assert d.current_a == 6.0


def test_min_soc_limit_soc_energy_limit() -> None:
    site, loop = one(min_soc=60.0)
    d = loop.run(0, 30)["a"]
    assert d.enable
    assert d.reason.code == ReasonCode.BELOW_MIN_SOC
    site.loadpoints["a"].settings.min_soc = None
    site.loadpoints["a"].settings.limit_soc = 50.0
    d = loop.run(5000, 30)["a"]
    assert not d.enable
    assert d.status == Status.COMPLETE
    assert d.reason.code == ReasonCode.LIMIT_SOC_REACHED
    site.loadpoints["a"].settings.limit_soc = None
    site.loadpoints["a"].settings.energy_limit_kwh = 5.0
    d = site.update(
        SiteInputs(now=loop.t, grid_power_w=-5000),
        {"a": LoadpointInputs(connected=True, vehicle_soc=50, session_energy_kwh=5.0)},
    )["a"]
    assert not d.enable
    assert d.reason.code == ReasonCode.ENERGY_LIMIT_REACHED


def test_departure_plan_waits_then_charges_late() -> None:
    site, loop = one()
    # need (80-50) % of 60 kWh / 0.9 = 20 kWh -> 1.81 h at 11 kW + 15 min margin
    site.set_plan("a", DeparturePlan(target_soc=80.0, departure_time=10 * 3600.0))
    d = loop.run(0, 30)["a"]
    assert not d.enable
    assert d.reason.code == ReasonCode.PLAN_WAITING
    start_in = d.reason.params["start_in_s"]
    assert 10 * 3600 - 2.1 * 3600 < start_in < 10 * 3600 - 1.8 * 3600
    loop.run(0, start_in - 60)
    assert not site.loadpoints["a"].enabled
    d = loop.run(0, 120)["a"]
    assert d.enable
    assert d.current_a == 16.0
    assert d.phases == 3
    assert d.reason.code == ReasonCode.PLAN_ACTIVE
    # surplus is used first: with enough sun the plan never needs to start early
    site.set_plan("a", None)
    assert site.loadpoints["a"].plan is None


def test_stale_data_safe_state() -> None:
    site, loop = one()
    loop.run(3000, 300)
    assert site.loadpoints["a"].enabled
    lp = {"a": LoadpointInputs(connected=True, power_w=2990, vehicle_soc=50)}
    d = site.update(SiteInputs(now=loop.t, grid_power_w=-10, grid_updated_at=loop.t - 61), lp)
    assert not d["a"].enable
    assert d["a"].reason.code == ReasonCode.STALE_DATA
    assert d["a"].reason.params["age_s"] == 61
    site.set_mode("a", ChargeMode.MINPV)
    d = site.update(SiteInputs(now=loop.t + 30, grid_power_w=None), lp)
    assert d["a"].enable
    assert d["a"].current_a == 6.0
    assert d["a"].reason.as_dict() == {"code": "stale_data", "age_s": None}


def test_fuse_limit_with_grid_phase_currents() -> None:
    site = SiteController(SiteSettings(fuse_limit_a=20.0), {"a": LoadpointSettings()})
    site.set_mode("a", "now")
    lp = {"a": LoadpointInputs(connected=True, phase_currents_a=(10.0, 10.0, 10.0), power_w=6900)}
    d = site.update(
        SiteInputs(now=0, grid_power_w=9000, grid_phase_currents_a=(22.0, 15.0, 12.0)), lp
    )
    # room on L1: 20 - 22 + 10 = 8 A
    assert d["a"].current_a == 8.0
    assert d["a"].reason.params["limit_a"] == 8.0
    d = site.update(
        SiteInputs(now=30, grid_power_w=9000, grid_phase_currents_a=(26.0, 15.0, 12.0)), lp
    )
    assert not d["a"].enable
    assert d["a"].reason.code == ReasonCode.FUSE_LIMIT


def test_fuse_limit_without_phase_currents_caps_pv_current() -> None:
    site = SiteController(SiteSettings(fuse_limit_a=10.0), {"a": LoadpointSettings(phases_max=1)})
    loop = Loop(site)
    d = loop.run(5000, 300)["a"]
    assert d.current_a == 10.0
    assert d.reason.code == ReasonCode.FUSE_LIMIT


def test_battery_priority_buffer_and_buffer_start() -> None:
    s = SiteSettings(priority_soc=50.0, buffer_soc=80.0, buffer_start_soc=95.0)
    site = SiteController(s, {"a": LoadpointSettings()})
    lp = {"a": LoadpointInputs(connected=True, vehicle_soc=50)}
    # battery below priority SoC charges with 2 kW: not surplus for the car
    inp = SiteInputs(now=0, grid_power_w=-500, battery_power_w=-2000, battery_soc=30)
    assert site.battery_state(inp) == "priority"
    assert site.available_power_w(inp, lp) == 500
    d = site.update(inp, lp)["a"]
    assert d.reason.code == ReasonCode.BATTERY_PRIORITY
    # above priority SoC the battery's charging power is available
    inp = SiteInputs(now=30, grid_power_w=-500, battery_power_w=-2000, battery_soc=60)
    assert site.available_power_w(inp, lp) == 2500
    # discharging is never counted as surplus
    inp = SiteInputs(now=60, grid_power_w=0, battery_power_w=1000, battery_soc=60)
    assert site.available_power_w(inp, lp) == -1000
    # buffer-start: the car may start without surplus
    loop = Loop(site)
    d = loop.run(0, 180, battery_soc=97.0)["a"]
    assert d.enable
    assert d.reason.code in (
        ReasonCode.BATTERY_BUFFER_START,
        ReasonCode.BATTERY_BUFFER,
    )
    # buffer: keeps min current from the battery, never stops
    d = loop.run(0, 3600, battery_soc=85.0)["a"]
    assert d.enable
    assert d.current_a == 6.0
    assert d.reason.code == ReasonCode.BATTERY_BUFFER
    assert site.battery_state(SiteInputs(now=0, grid_power_w=0)) is None


def test_two_loadpoints_share_by_priority() -> None:
    site = SiteController(
        SiteSettings(),
        {
            "low": LoadpointSettings(priority=0),
            "high": LoadpointSettings(priority=1, phases_max=1, max_current_a=10.0),
        },
    )
    loop = Loop(site, ("low", "high"))
    d = loop.run(2000, 600)
    assert d["high"].enable
    assert d["high"].current_a == 8.0
    assert not d["low"].enable
    assert d["low"].reason.code == ReasonCode.PRIORITY
    d = loop.run(6000, 1200)
    assert d["high"].enable
    assert d["low"].enable
    total = d["high"].target_power_w + d["low"].target_power_w
    assert total <= 6000
    assert d["high"].current_a == 10.0
    site.remove_loadpoint("low")
    assert list(site.update(SiteInputs(now=loop.t, grid_power_w=0), {})) == ["high"]


def test_command_rate_limit() -> None:
    site, loop = one(command_interval_s=20.0)
    loop.run(3000, 150, cycle=5.0)
    ctl = site.loadpoints["a"]
    assert ctl.enabled
    changes = []
    prev = ctl.last_decision
    for k in range(12):
        d = loop.run(2000 + 300 * (k % 2), 5, cycle=5.0)["a"]
        if prev is not None and d.current_a != prev.current_a:
            changes.append(loop.t)
        prev = d
    assert changes
    assert all(b - a >= 20 for a, b in itertools.pairwise(changes))


def test_vehicle_full_and_fault() -> None:
    site, _ = one()
    ctl = site.loadpoints["a"]
    t = 0.0
    for _ in range(20):
        d = site.update(
            SiteInputs(now=t, grid_power_w=-3000),
            {"a": LoadpointInputs(connected=True, charging=False, power_w=0, vehicle_soc=50)},
        )["a"]
        t += 30
    assert ctl.enabled
    assert d.status == Status.COMPLETE
    assert d.reason.code == ReasonCode.VEHICLE_FULL
    d = site.update(
        SiteInputs(now=t, grid_power_w=0), {"a": LoadpointInputs(connected=True, fault=True)}
    )["a"]
    assert d.status == Status.FAULT
    assert not d.enable


def test_controller_helpers() -> None:
    ctl = LoadpointController()
    assert ctl.mode == ChargeMode.PV
    assert ctl.phases == 3
    assert not ctl.enabled
    assert ctl.last_decision is None
    assert ctl.min_power_w(1) == 1380
    assert ctl.max_power_w(3) == 11040
    assert ctl.need_kwh(LoadpointInputs(connected=True)) is None
    assert ctl.need_kwh(LoadpointInputs(connected=True, vehicle_soc=70)) == pytest.approx(20.0)
    assert ctl.need_kwh(
        LoadpointInputs(connected=True, vehicle_soc=70, vehicle_limit_soc=79)
    ) == pytest.approx(6.0)
    assert ctl.one_phase_potential_kwh(SiteInputs(now=0, grid_power_w=0)) == 0.0
    site = SiteController()
    site.add_loadpoint("x")
    site.set_mode("x", "minpv")
    assert site.loadpoints["x"].mode == ChargeMode.MINPV


def test_plan_keeps_1p_when_it_still_makes_it() -> None:
    site, loop = one()
    loop.run(2000, 300)  # charging on 1p from surplus
    assert site.loadpoints["a"].phases == 1
    # need (60-50) % of 60 kWh / 0.9 = 6.7 kWh: 1.8 h at 3.68 kW
    site.set_plan("a", DeparturePlan(target_soc=60.0, departure_time=loop.t + 3 * 3600.0))
    d = loop.run(0, 1800)["a"]
    assert d.reason.code == ReasonCode.MIN_ON_TIME or not d.enable
    phases = set()
    for _ in range(60):
        d = loop.run(0, 30)["a"]
        if d.reason.code == ReasonCode.PLAN_ACTIVE:
            phases.add(d.phases)
    # started on 1p; the test loop's SoC never rises, so it falls behind and goes 3p,
    # without stopping in between
    assert 1 in phases
    assert d.enable
    assert d.reason.code == ReasonCode.PLAN_ACTIVE
