"""Property tests of the controller: safety limits and timing guarantees hold for any input."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from custom_components.hems.loadpoint.controller import (
    ChargeMode,
    LoadpointInputs,
    LoadpointSettings,
    ReasonCode,
    SiteController,
    SiteInputs,
    SiteSettings,
)

surplus = st.lists(st.floats(min_value=-3000, max_value=14000), min_size=5, max_size=120)
modes = st.sampled_from(list(ChargeMode))


def drive(
    seq: list[float],
    mode: ChargeMode,
    cycle: float,
    fuse: float | None = None,
    grid_phases: list[tuple[float, float, float]] | None = None,
    stale: list[bool] | None = None,
    **lp_kw: float,
) -> list[tuple[float, object]]:
    """Closed loop over a surplus sequence; returns (time, decision) pairs."""
    site = SiteController(
        SiteSettings(fuse_limit_a=fuse), {"a": LoadpointSettings(mode=mode, **lp_kw)}
    )
    t, power, out = 0.0, 0.0, []
    for k, s in enumerate(seq):
        gp = grid_phases[k % len(grid_phases)] if grid_phases else None
        updated = t - 120.0 if stale and stale[k % len(stale)] else t
        d = site.update(
            SiteInputs(
                now=t, grid_power_w=-s + power, grid_updated_at=updated, grid_phase_currents_a=gp
            ),
            {
                "a": LoadpointInputs(
                    connected=True, power_w=power, charging=power > 0, vehicle_soc=40
                )
            },
        )["a"]
        out.append((t, d))
        power = d.target_power_w
        t += cycle
    return out


@settings(max_examples=150, deadline=None)
@given(
    seq=surplus,
    mode=modes,
    cycle=st.sampled_from([5.0, 10.0, 30.0]),
    max_a=st.sampled_from([10.0, 16.0, 32.0]),
)
def test_never_above_max_current(
    seq: list[float], mode: ChargeMode, cycle: float, max_a: float
) -> None:
    for _, d in drive(seq, mode, cycle, max_current_a=max_a):
        assert d.current_a <= max_a + 1e-9
        assert (not d.enable) or d.current_a >= 6.0 - 1e-9
        assert d.phases in (1, 3)


@settings(max_examples=200, deadline=None)
@given(
    seq=surplus,
    mode=modes,
    fuse=st.floats(min_value=6.0, max_value=35.0),
    house=st.lists(
        st.tuples(*[st.floats(min_value=0.0, max_value=40.0)] * 3), min_size=1, max_size=10
    ),
    cycle=st.sampled_from([5.0, 10.0, 30.0]),
)
def test_never_above_fuse_limit(
    seq: list[float],
    mode: ChargeMode,
    fuse: float,
    house: list[tuple[float, float, float]],
    cycle: float,
) -> None:
    # The car reports no phase currents here, so the room on each phase is exactly
    # fuse - house current; every enabled command must fit on every phase it uses.
    for k, (_, d) in enumerate(drive(seq, mode, cycle, fuse=fuse, grid_phases=house)):
        if d.enable:
            grid = house[k % len(house)]
            assert d.current_a <= min(fuse - g for g in grid[: d.phases]) + 1e-9


@settings(max_examples=150, deadline=None)
@given(seq=surplus, cycle=st.sampled_from([5.0, 10.0, 30.0]))
def test_min_on_off_times_and_switch_interval(seq: list[float], cycle: float) -> None:
    s = LoadpointSettings()
    events = drive(seq, ChargeMode.PV, cycle, phase_up_min_need_kwh=0.0)
    last_on = last_off = None
    last_switch = None
    prev = None
    for t, d in events:
        if prev is not None:
            if d.enable and not prev.enable:
                if last_off is not None:
                    assert t - last_off >= s.min_off_time_s - 1e-6
                last_on = t
            if prev.enable and not d.enable:
                # only safety reasons may cut the minimum on-time short
                if last_on is not None and t - last_on < s.min_on_time_s - 1e-6:
                    assert d.reason.code in (ReasonCode.STALE_DATA, ReasonCode.FUSE_LIMIT)
                last_off = t
            if prev.enable and d.enable and d.phases != prev.phases:
                if last_switch is not None:
                    assert t - last_switch >= s.min_phase_switch_interval_s - 1e-6
                last_switch = t
        prev = d


@settings(max_examples=100, deadline=None)
@given(
    seq=st.lists(st.floats(min_value=-2000, max_value=12000), min_size=40, max_size=80),
    interval=st.sampled_from([10.0, 20.0]),
)
def test_command_rate_never_exceeded(seq: list[float], interval: float) -> None:
    events = drive(seq, ChargeMode.MINPV, 5.0, command_interval_s=interval)
    last = None
    prev = None
    for t, d in events:
        if prev is not None and (d.enable, d.current_a, d.phases) != (
            prev.enable,
            prev.current_a,
            prev.phases,
        ):
            if last is not None:
                assert t - last >= interval - 1e-6
            last = t
        prev = d


@settings(max_examples=100, deadline=None)
@given(seq=surplus, mode=st.sampled_from([ChargeMode.PV, ChargeMode.MINPV]))
def test_stale_data_leads_to_safe_state(seq: list[float], mode: ChargeMode) -> None:
    for _, d in drive(seq, mode, 30.0, stale=[True]):
        assert d.reason.code == ReasonCode.STALE_DATA
        if mode == ChargeMode.PV:
            assert not d.enable
        else:
            assert d.enable
            assert d.current_a == 6.0
