"""Profiles: the shipped files, the format's checks, decoding and read grouping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from custom_components.hems.wallbox.driver import describe_plan, plan_reads
from custom_components.hems.wallbox.profile import (
    PROFILES,
    CurrentLimits,
    ProfileError,
    load_profile,
    load_profiles,
    parse_profile,
)


def minimal(**changes: Any) -> dict[str, Any]:
    """The smallest valid profile, with changes."""
    data: dict[str, Any] = {
        "manufacturer": "Acme",
        "model": "Box",
        "unit_id": 1,
        "current": {"min": 6, "max": 16},
        "registers": {
            "state": {"table": "holding", "address": 10, "states": {0: "A", 1: "B"}},
            "current_setpoint": {"address": 20, "access": "rw"},
        },
    }
    data.update(changes)
    return data


def test_shipped_profiles() -> None:
    """The three wallboxes of the issue ship, with their documented unit ids."""
    assert set(PROFILES) == {"phoenix", "abb", "alfen"}
    assert PROFILES["phoenix"].unit_id == 255
    assert PROFILES["phoenix"].also_sold_as == ("Wallbe", "ESL Walli", "Compleo")
    assert PROFILES["abb"].unit_id == 1
    assert PROFILES["alfen"].heartbeat is not None
    assert PROFILES["alfen"].heartbeat.fallback_after == 25
    assert PROFILES["alfen"].heartbeat.interval < 25
    assert PROFILES["alfen"].can_switch_phases
    assert not PROFILES["phoenix"].can_switch_phases
    assert PROFILES["phoenix"].enable_by_register
    assert not PROFILES["abb"].enable_by_register


def test_reads_are_grouped() -> None:
    """One poll is as few requests as each register map allows."""
    requests = {key: len(plan_reads(profile)) for key, profile in PROFILES.items()}
    # Phoenix: coils, input registers, and two holding blocks 376 registers apart.
    assert requests == {"phoenix": 4, "abb": 1, "alfen": 2}
    assert describe_plan(plan_reads(PROFILES["abb"])) == [
        "holding 16396+20: state, current_limit, current_l1, current_l2, current_l3, "
        "power, energy_session"
    ]


def test_reads_respect_the_request_size() -> None:
    """A block longer than max_registers is split even without a gap."""
    profile = parse_profile(
        "big",
        minimal(
            read={"max_registers": 11, "max_gap": 100},
            registers={
                "state": {"address": 0, "type": "string", "count": 10},
                "power": {"address": 10, "type": "float32"},
                "current_setpoint": {"address": 12, "access": "w"},
            },
        ),
    )
    plan = plan_reads(profile)
    assert [(r.address, r.count) for r in plan] == [(0, 10), (10, 2)]


def test_adding_a_wallbox_is_adding_a_file(tmp_path: Path) -> None:
    """A profile file in a directory is all a new wallbox needs."""
    (tmp_path / "acme.yaml").write_text(
        """
manufacturer: Acme
model: Charger 1
unit_id: 3
current: {min: 6, max: 20, step: 0.5}
registers:
  state: {table: input, address: 1, type: uint16, states: {1: A, 2: B, 3: C}}
  power: {table: input, address: 2, type: int32, word_order: little, scale: 10}
  current_setpoint: {table: holding, address: 5, type: uint16, scale: 0.1, access: rw}
""",
        encoding="utf-8",
    )
    profiles = load_profiles(tmp_path)
    acme = profiles["acme"]
    assert acme.model == "Charger 1"
    assert acme.current.clamp(7.3) == 7.5
    setpoint = acme.registers["current_setpoint"]
    assert setpoint.encode(7.5) == [75]
    power = acme.registers["power"]
    assert power.decode([0x0001, 0x0000]) == 10.0


def test_invalid_yaml(tmp_path: Path) -> None:
    """A broken file names itself."""
    path = tmp_path / "broken.yaml"
    path.write_text("registers: [", encoding="utf-8")
    with pytest.raises(ProfileError, match="broken: not valid YAML"):
        load_profile(path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be a mapping"),
        (minimal(registers={"state": {"address": 1}}), "writable 'current_setpoint'"),
        (
            minimal(registers={"current_setpoint": {"address": 1, "access": "rw"}}),
            "readable 'state'",
        ),
        (minimal(registers={"state": {"address": 1}, "bogus": {"address": 2}}), "unknown role"),
        (minimal(registers={"state": "x"}), "must be a mapping"),
        (minimal(registers={"state": {"address": 1, "colour": 1}}), "unknown keys"),
        (minimal(registers={"state": {"address": 1, "table": "disk"}}), "table must be"),
        (minimal(registers={"state": {}}), "'address' is missing"),
        (minimal(registers={"state": {"address": "1"}}), "'address' must be int"),
        (minimal(registers={"state": {"address": 70000}}), "out of range"),
        (minimal(registers={"state": {"address": 1, "type": "int8"}}), "type must be"),
        (minimal(registers={"state": {"address": 1, "table": "coil", "type": "uint16"}}), "bool"),
        (minimal(registers={"state": {"address": 1, "type": "string"}}), "'count' is missing"),
        (minimal(registers={"state": {"address": 1, "type": "string", "count": 0}}), "count"),
        (minimal(registers={"state": {"address": 1, "word_order": "middle"}}), "word_order"),
        (minimal(registers={"state": {"address": 1, "scale": 0}}), "scale must not be 0"),
        (minimal(registers={"state": {"address": 1, "scale": "x"}}), "must be a number"),
        (minimal(registers={"state": {"address": 1, "access": "x"}}), "access must be"),
        (minimal(registers={"state": {"address": 1, "access": "rw"}}), "only"),
        (
            minimal(
                registers={
                    "state": {"address": 1},
                    "current_setpoint": {"table": "input", "address": 2, "access": "rw"},
                }
            ),
            "read-only",
        ),
        (minimal(registers={"state": {"address": 1, "mask": "x"}}), "mask"),
        (minimal(registers={"state": {"address": 1, "states": {1: "Z"}}}), "states"),
        (minimal(current={"min": 16, "max": 6}), "min <= max"),
        (minimal(current={"min": 6}), "'max' is missing"),
        (minimal(phases=[1, 4]), "phases"),
        (minimal(heartbeat=5), "heartbeat: must be a mapping"),
        (minimal(heartbeat={"interval": 30, "fallback_after": 25}), "interval < fallback"),
        (minimal(read=[]), "read: must be a mapping"),
        (minimal(unit_id=300), "unit_id"),
        (minimal(unit_id=True), "'unit_id' must be int"),
        (minimal(also_sold_as="x"), "also_sold_as"),
        (minimal(manufacturer=None), "'manufacturer' must be str"),
    ],
)
def test_bad_profiles_are_refused(data: Any, message: str) -> None:
    """Each mistake gets a message that says where and what."""
    with pytest.raises(ProfileError, match=message):
        parse_profile("bad", data)


def test_decoding() -> None:
    """Types, word order, masks, strings and state maps."""
    abb_state = PROFILES["abb"].registers["state"]
    assert abb_state.decode([0x0000, 0x0104]) == 4  # flags above the low 7 bits dropped
    assert abb_state.iec_state(4) == "C"
    assert abb_state.iec_state(9) is None
    alfen_state = PROFILES["alfen"].registers["state"]
    raw = alfen_state.decode([0x4232, 0, 0, 0, 0])
    assert raw == "B2"
    assert alfen_state.iec_state(raw) == "B"
    assert alfen_state.iec_state("") is None
    phoenix_power = PROFILES["phoenix"].registers["power"]
    assert phoenix_power.decode([0x5678, 0x0001]) == 0x15678
    assert phoenix_power.encode(0x15678) == [0x5678, 0x0001]
    alfen_energy = PROFILES["alfen"].registers["energy_total"]
    assert alfen_energy.decode(alfen_energy.encode(12345.5)) == 12345.5
    abb_setpoint = PROFILES["abb"].registers["current_setpoint"]
    assert abb_setpoint.encode(16) == [0, 16000]
    enable = PROFILES["phoenix"].registers["enable"]
    assert enable.encode(True) == [1]
    assert enable.decode([0]) is False


def test_clamp() -> None:
    """Setpoints are rounded to the step and kept within the limits."""
    limits = CurrentLimits(min=6, max=16, step=1)
    assert limits.clamp(3) == 6
    assert limits.clamp(40) == 16
    assert limits.clamp(10.4) == 10
