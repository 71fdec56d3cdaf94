"""Wallbox profiles: register maps as data, one YAML file per wallbox.

A profile names the registers a wallbox offers by their role (``state``, ``power``,
``energy_total``, ``current_setpoint``, ...), says how to decode them (table, address,
type, word order, scale) and which of them may be written. :func:`load_profile` checks a
file and turns it into a :class:`Profile`; nothing here talks to a device and nothing
imports Home Assistant. The format is documented in ``docs/wallbox.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
import struct
from typing import Any, Final

import yaml

PROFILE_DIR: Final = Path(__file__).parent / "profiles"

# IEC 61851 states; E and F are faults.
IEC_STATES: Final = ("A", "B", "C", "D", "E", "F")


class ProfileError(ValueError):
    """A profile file is not valid; the message says where and why."""


class Table(StrEnum):
    """The four Modbus data tables."""

    COIL = "coil"
    DISCRETE = "discrete"
    INPUT = "input"
    HOLDING = "holding"

    @property
    def is_bits(self) -> bool:
        """Coils and discrete inputs hold bits, the others 16-bit registers."""
        return self in (Table.COIL, Table.DISCRETE)


class Access(StrEnum):
    """Whether the driver may read, write or do both with a register."""

    READ = "r"
    WRITE = "w"
    READ_WRITE = "rw"


# Register types and their size in 16-bit words (strings take ``count`` words).
WORDS: Final[Mapping[str, int]] = {
    "bool": 1,
    "uint16": 1,
    "int16": 1,
    "uint32": 2,
    "int32": 2,
    "float32": 2,
    "uint64": 4,
    "int64": 4,
    "float64": 4,
    "string": 0,
}
_STRUCT: Final[Mapping[str, str]] = {
    "uint16": "H",
    "int16": "h",
    "uint32": "I",
    "int32": "i",
    "float32": "f",
    "uint64": "Q",
    "int64": "q",
    "float64": "d",
}

# The roles a register may play. Measurements are read every poll; the others are written.
READ_ROLES: Final = frozenset(
    {
        "state",
        "power",
        "energy_total",
        "energy_session",
        "current_l1",
        "current_l2",
        "current_l3",
        "voltage_l1",
        "voltage_l2",
        "voltage_l3",
        "current_limit",
        "current_setpoint",
        "enable",
        "phases",
    }
)
WRITE_ROLES: Final = frozenset({"current_setpoint", "enable", "phases"})


@dataclass(frozen=True, kw_only=True)
class Register:
    """One value of the wallbox: where it lives and how to decode it."""

    role: str
    table: Table
    address: int
    type: str
    count: int  # 16-bit words (or 1 bit for coils and discrete inputs)
    word_order: str = "big"
    scale: float = 1.0
    access: Access = Access.READ
    mask: int | None = None
    states: Mapping[int | str, str] = field(default_factory=dict)

    @property
    def readable(self) -> bool:
        """The driver reads it each poll."""
        return self.access in (Access.READ, Access.READ_WRITE)

    @property
    def writable(self) -> bool:
        """The profile allows writing it."""
        return self.access in (Access.WRITE, Access.READ_WRITE)

    def decode(self, words: list[int]) -> float | int | str | bool:
        """Turn the raw words (or bits) of this register into a value."""
        if self.type == "bool":
            return bool(words[0])
        if self.type == "string":
            raw = b"".join(word.to_bytes(2, "big") for word in words)
            return raw.replace(b"\x00", b"").decode("ascii", "replace").strip()
        ordered = list(reversed(words)) if self.word_order == "little" else list(words)
        value: int | float = struct.unpack(
            ">" + _STRUCT[self.type], b"".join(word.to_bytes(2, "big") for word in ordered)
        )[0]
        if self.mask is not None:
            value = int(value) & self.mask
        if self.states or self.scale == 1.0:
            return value
        return value * self.scale

    def encode(self, value: float | bool) -> list[int]:
        """The words to write for a value in the register's unit (after scaling)."""
        if self.type == "bool":
            return [int(bool(value))]
        if self.type in ("float32", "float64"):
            raw: int | float = float(value) / self.scale
        else:
            raw = round(float(value) / self.scale)
        data = struct.pack(">" + _STRUCT[self.type], raw)
        words = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
        return list(reversed(words)) if self.word_order == "little" else words

    def iec_state(self, value: float | str | bool) -> str | None:
        """Map a decoded state register to an IEC 61851 letter, None if unknown."""
        key: int | str = value if isinstance(value, str) else int(value)
        if key in self.states:
            return self.states[key]
        if isinstance(key, str) and key[:1].upper() in IEC_STATES:
            return key[:1].upper()
        return None


@dataclass(frozen=True, kw_only=True)
class CurrentLimits:
    """What the charging current setpoint may be, in A."""

    min: float
    max: float
    step: float = 1.0

    def clamp(self, amps: float) -> float:
        """The nearest allowed setpoint."""
        stepped = round(amps / self.step) * self.step
        return min(self.max, max(self.min, stepped))


@dataclass(frozen=True, kw_only=True)
class Heartbeat:
    """A box that falls back to a safe current unless its setpoint is rewritten."""

    interval: float  # we rewrite this often, s
    fallback_after: float  # the box gives up after this long, s


@dataclass(frozen=True, kw_only=True)
class ReadLimits:
    """How reads may be grouped into one request."""

    max_registers: int = 125
    max_bits: int = 2000
    max_gap: int = 16  # unused words read in passing to save a request


@dataclass(frozen=True, kw_only=True)
class Profile:
    """Everything the generic driver needs to know about one wallbox model."""

    key: str
    manufacturer: str
    model: str
    also_sold_as: tuple[str, ...]
    unit_id: int
    port: int
    registers: Mapping[str, Register]
    current: CurrentLimits
    phase_options: tuple[int, ...]
    heartbeat: Heartbeat | None
    read: ReadLimits

    @property
    def enable_by_register(self) -> bool:
        """True if an ``enable`` register exists; else disabling writes 0 A."""
        register = self.registers.get("enable")
        return register is not None and register.writable

    @property
    def can_switch_phases(self) -> bool:
        """True if the box takes 1p/3p commands."""
        register = self.registers.get("phases")
        return register is not None and register.writable and len(self.phase_options) > 1


def _require(data: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in data:
        raise ProfileError(f"{where}: '{key}' is missing")
    value = data[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ProfileError(f"{where}: '{key}' must be {kind.__name__}, not {value!r}")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProfileError(f"{where}: must be a number, not {value!r}")
    return float(value)


def _parse_register(role: str, data: Any, where: str) -> Register:
    if role not in READ_ROLES:
        raise ProfileError(f"{where}: unknown role '{role}' (known: {sorted(READ_ROLES)})")
    if not isinstance(data, Mapping):
        raise ProfileError(f"{where}: must be a mapping")
    unknown = set(data) - {
        "table",
        "address",
        "type",
        "count",
        "word_order",
        "scale",
        "access",
        "mask",
        "states",
    }
    if unknown:
        raise ProfileError(f"{where}: unknown keys {sorted(unknown)}")
    try:
        table = Table(data.get("table", "holding"))
    except ValueError:
        raise ProfileError(f"{where}: table must be one of {[t.value for t in Table]}") from None
    address = _require(data, "address", int, where)
    if not 0 <= address <= 0xFFFF:
        raise ProfileError(f"{where}: address {address} is out of range")
    kind = data.get("type", "bool" if table.is_bits else "uint16")
    if kind not in WORDS:
        raise ProfileError(f"{where}: type must be one of {sorted(WORDS)}")
    if table.is_bits != (kind == "bool"):
        raise ProfileError(f"{where}: coils and discrete inputs are bool, registers are not")
    if kind == "string":
        count = _require(data, "count", int, where)
        if count < 1:
            raise ProfileError(f"{where}: count must be at least 1")
    else:
        count = WORDS[kind]
    word_order = data.get("word_order", "big")
    if word_order not in ("big", "little"):
        raise ProfileError(f"{where}: word_order must be 'big' or 'little'")
    scale = _number(data.get("scale", 1.0), f"{where}.scale")
    if scale == 0:
        raise ProfileError(f"{where}: scale must not be 0")
    try:
        access = Access(data.get("access", "r"))
    except ValueError:
        raise ProfileError(f"{where}: access must be r, w or rw") from None
    if access is not Access.READ and role not in WRITE_ROLES:
        raise ProfileError(f"{where}: only {sorted(WRITE_ROLES)} may be written")
    if access is not Access.READ and table in (Table.INPUT, Table.DISCRETE):
        raise ProfileError(f"{where}: input registers and discrete inputs are read-only")
    mask = data.get("mask")
    if mask is not None and (isinstance(mask, bool) or not isinstance(mask, int)):
        raise ProfileError(f"{where}: mask must be an integer")
    states = data.get("states", {})
    if not isinstance(states, Mapping) or any(
        letter not in IEC_STATES for letter in states.values()
    ):
        raise ProfileError(f"{where}: states must map raw values to one of {IEC_STATES}")
    return Register(
        role=role,
        table=table,
        address=address,
        type=kind,
        count=count,
        word_order=word_order,
        scale=scale,
        access=access,
        mask=mask,
        states=dict(states),
    )


def parse_profile(key: str, data: Any) -> Profile:
    """Check a profile's parsed YAML and build the :class:`Profile`."""
    where = f"profile {key}"
    if not isinstance(data, Mapping):
        raise ProfileError(f"{where}: must be a mapping")
    registers_data = _require(data, "registers", dict, where)
    registers = {
        role: _parse_register(role, spec, f"{where}.registers.{role}")
        for role, spec in registers_data.items()
    }
    if "state" not in registers or not registers["state"].readable:
        raise ProfileError(f"{where}: a readable 'state' register is required")
    setpoint = registers.get("current_setpoint")
    if setpoint is None or not setpoint.writable:
        raise ProfileError(f"{where}: a writable 'current_setpoint' register is required")
    current_data = _require(data, "current", dict, where)
    current = CurrentLimits(
        min=_require(current_data, "min", float, f"{where}.current"),
        max=_require(current_data, "max", float, f"{where}.current"),
        step=_number(current_data.get("step", 1.0), f"{where}.current.step"),
    )
    if not 0 < current.min <= current.max or current.step <= 0:
        raise ProfileError(f"{where}.current: need 0 < min <= max and step > 0")
    phases = data.get("phases", [])
    if not isinstance(phases, list) or any(p not in (1, 2, 3) for p in phases):
        raise ProfileError(f"{where}.phases: must be a list of 1, 2 or 3")
    heartbeat: Heartbeat | None = None
    if (beat := data.get("heartbeat")) is not None:
        if not isinstance(beat, Mapping):
            raise ProfileError(f"{where}.heartbeat: must be a mapping")
        heartbeat = Heartbeat(
            interval=_require(beat, "interval", float, f"{where}.heartbeat"),
            fallback_after=_require(beat, "fallback_after", float, f"{where}.heartbeat"),
        )
        if not 0 < heartbeat.interval < heartbeat.fallback_after:
            raise ProfileError(f"{where}.heartbeat: need 0 < interval < fallback_after")
    read_data = data.get("read", {})
    if not isinstance(read_data, Mapping):
        raise ProfileError(f"{where}.read: must be a mapping")
    read = ReadLimits(
        max_registers=int(read_data.get("max_registers", 125)),
        max_bits=int(read_data.get("max_bits", 2000)),
        max_gap=int(read_data.get("max_gap", 16)),
    )
    unit_id = _require(data, "unit_id", int, where)
    if not 0 <= unit_id <= 255:
        raise ProfileError(f"{where}: unit_id must be 0..255")
    also = data.get("also_sold_as", [])
    if not isinstance(also, list):
        raise ProfileError(f"{where}.also_sold_as: must be a list")
    return Profile(
        key=key,
        manufacturer=_require(data, "manufacturer", str, where),
        model=_require(data, "model", str, where),
        also_sold_as=tuple(str(name) for name in also),
        unit_id=unit_id,
        port=int(data.get("port", 502)),
        registers=registers,
        current=current,
        phase_options=tuple(phases),
        heartbeat=heartbeat,
        read=read,
    )


def load_profile(path: Path) -> Profile:
    """Read and check one profile file (blocking: call from an executor or at import)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ProfileError(f"profile {path.stem}: not valid YAML: {err}") from err
    return parse_profile(path.stem, data)


def load_profiles(directory: Path = PROFILE_DIR) -> dict[str, Profile]:
    """Every profile in a directory, by file name without ``.yaml``."""
    return {path.stem: load_profile(path) for path in sorted(directory.glob("*.yaml"))}


# The profiles shipped with the integration, read once when the module is imported.
PROFILES: Final[Mapping[str, Profile]] = load_profiles()
