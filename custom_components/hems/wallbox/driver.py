"""The generic wallbox driver: one class for every profile, Modbus TCP via pymodbus.

No Home Assistant import: the coordinator, the config flow and the CLI use it alike.
Reads are grouped into as few requests as the profile's register map allows; writes are
clamped to the profile's limits and only go to registers the profile marks writable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
import logging
import time
from typing import Any, Final

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException
from pymodbus.pdu import ModbusPDU

from .profile import Profile, Register, Table

_LOGGER = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 3.0
PLUGGED_STATES: Final = frozenset({"B", "C", "D"})
CHARGING_STATES: Final = frozenset({"C", "D"})
FAULT_STATES: Final = frozenset({"E", "F"})

# pymodbus logs every failed connect and every unanswered request, on each retry. Our
# callers turn these failures into errors and report an outage once (and its recovery
# once), so pymodbus is kept quiet while one of our requests runs - and only then: other
# integrations using pymodbus keep their logs.
_OURS: ContextVar[bool] = ContextVar("hems_wallbox_request", default=False)


class _QuietDuringOurRequests(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _OURS.get()


_PYMODBUS_LOGGER = logging.getLogger("pymodbus.logging")
if not any(isinstance(f, _QuietDuringOurRequests) for f in _PYMODBUS_LOGGER.filters):
    _PYMODBUS_LOGGER.addFilter(_QuietDuringOurRequests())


class WallboxError(Exception):
    """Talking to the wallbox failed."""


class WallboxConnectionError(WallboxError):
    """No TCP connection to the wallbox."""


class WallboxTimeoutError(WallboxError):
    """The wallbox did not answer (wrong unit id, or not a Modbus device)."""


class WallboxProtocolError(WallboxError):
    """The wallbox answered with a Modbus exception (wrong profile or register)."""


class WallboxWriteRefusedError(WallboxError):
    """The profile does not allow this write."""


@dataclass(frozen=True, kw_only=True)
class ReadRequest:
    """One Modbus read that serves one or more registers."""

    table: Table
    address: int
    count: int
    registers: tuple[Register, ...]


def plan_reads(profile: Profile) -> list[ReadRequest]:
    """Group the readable registers into as few requests as the profile's limits allow."""
    plan: list[ReadRequest] = []
    for table in Table:
        registers = sorted(
            (r for r in profile.registers.values() if r.readable and r.table is table),
            key=lambda r: r.address,
        )
        limit = profile.read.max_bits if table.is_bits else profile.read.max_registers
        group: list[Register] = []
        start = end = 0
        for register in registers:
            reg_end = register.address + register.count
            if group and (register.address - end > profile.read.max_gap or reg_end - start > limit):
                plan.append(
                    ReadRequest(
                        table=table, address=start, count=end - start, registers=tuple(group)
                    )
                )
                group = []
            if not group:
                start = register.address
                end = reg_end
            group.append(register)
            end = max(end, reg_end)
        if group:
            plan.append(
                ReadRequest(table=table, address=start, count=end - start, registers=tuple(group))
            )
    return plan


@dataclass(kw_only=True)
class WallboxStatus:
    """One poll's worth of readings, in SI units (W, Wh, A, V)."""

    state: str | None = None
    raw_state: str | None = None
    power_w: float | None = None
    energy_total_wh: float | None = None
    energy_session_wh: float | None = None
    currents_a: dict[int, float] = field(default_factory=dict)
    voltages_v: dict[int, float] = field(default_factory=dict)
    current_limit_a: float | None = None
    enabled: bool | None = None
    phases: int | None = None

    @property
    def plugged(self) -> bool | None:
        """A vehicle is connected (IEC B, C or D)."""
        return None if self.state is None else self.state in PLUGGED_STATES

    @property
    def charging(self) -> bool | None:
        """The vehicle draws current (IEC C or D)."""
        return None if self.state is None else self.state in CHARGING_STATES

    def as_json(self) -> dict[str, Any]:
        """The figures the CLI prints (and diagnostics show)."""
        result: dict[str, Any] = {
            "state": self.state,
            "power_w": self.power_w,
            "energy_wh": self.energy_total_wh
            if self.energy_total_wh is not None
            else self.energy_session_wh,
            "session_energy_wh": self.energy_session_wh,
            "current_limit_a": self.current_limit_a,
            "enabled": self.enabled,
        }
        if self.phases is not None:
            result["phases"] = self.phases
        if self.currents_a:
            result["currents_a"] = [self.currents_a.get(i) for i in (1, 2, 3)]
        return result

    def as_dict(self) -> dict[str, Any]:
        """Every field, for diagnostics."""
        return asdict(self)


class EnergyTracker:
    """Keeps the total counter from running backwards and derives session energy.

    A wallbox without a session register gets its session energy from the total counter:
    the session starts when a vehicle is plugged in (or at the first reading if one is
    already plugged in) and is kept after unplugging until the next plug-in.
    """

    def __init__(self) -> None:
        self.total_wh: float | None = None
        self.session_start_wh: float | None = None
        self.session_wh: float | None = None
        self._plugged: bool | None = None
        self.backwards_readings = 0

    def update(self, status: WallboxStatus) -> None:
        """Fix up ``status`` in place: monotonic total, derived session energy."""
        total = status.energy_total_wh
        if total is not None and self.total_wh is not None and total < self.total_wh:
            if not self.backwards_readings:
                _LOGGER.warning(
                    "Wallbox energy counter went backwards (%s Wh after %s Wh); "
                    "keeping the last value",
                    total,
                    self.total_wh,
                )
            self.backwards_readings += 1
            total = self.total_wh
        if total is not None:
            self.total_wh = total
        status.energy_total_wh = self.total_wh
        plugged = status.plugged
        if status.energy_session_wh is None and self.total_wh is not None:
            if plugged and not self._plugged:
                self.session_start_wh = self.total_wh
            if self.session_start_wh is not None:
                self.session_wh = self.total_wh - self.session_start_wh
            status.energy_session_wh = self.session_wh
        if plugged is not None:
            self._plugged = plugged


class WallboxDriver:
    """Reads and commands one wallbox as described by its profile."""

    def __init__(
        self,
        profile: Profile,
        host: str,
        *,
        port: int | None = None,
        unit_id: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.profile = profile
        self.host = host
        self.port = port if port is not None else profile.port
        self.unit_id = unit_id if unit_id is not None else profile.unit_id
        self.timeout = timeout
        self.retries = retries
        self.plan = plan_reads(profile)
        self.energy = EnergyTracker()
        self._clock = clock
        self._client: AsyncModbusTcpClient | None = None
        self._lock = asyncio.Lock()
        # What we last commanded (None: not yet known; then taken from the box).
        self.desired_current_a: float | None = None
        self.enabled: bool | None = None
        self.last_setpoint_write: float | None = None
        self.requests = 0

    @property
    def connected(self) -> bool:
        """True while a TCP connection is open."""
        return self._client is not None and self._client.connected

    async def connect(self) -> None:
        """Open the TCP connection (no automatic reconnects: the caller decides when)."""
        if self.connected:
            return
        self.close()
        client = AsyncModbusTcpClient(
            self.host,
            port=self.port,
            timeout=self.timeout,
            retries=self.retries,
            reconnect_delay=0,
            name=f"wallbox {self.host}",
        )
        quiet = _OURS.set(True)
        try:
            ok = await client.connect()
        except (OSError, ModbusException) as err:  # pragma: no cover - pymodbus catches these
            client.close()
            raise WallboxConnectionError(f"cannot connect to {self.host}:{self.port}") from err
        finally:
            _OURS.reset(quiet)
        if not ok:
            client.close()
            raise WallboxConnectionError(f"cannot connect to {self.host}:{self.port}")
        self._client = client

    def close(self) -> None:
        """Close the connection; the next call connects again."""
        if self._client is not None:
            self._client.close()
            self._client = None

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> ModbusPDU:
        """One Modbus request; any failure closes the connection."""
        await self.connect()
        assert self._client is not None
        self.requests += 1
        quiet = _OURS.set(True)
        try:
            response: ModbusPDU = await getattr(self._client, name)(
                *args, slave=self.unit_id, **kwargs
            )
        except ConnectionException as err:  # pragma: no cover - connect() runs first
            self.close()
            raise WallboxConnectionError(f"lost connection to {self.host}: {err}") from err
        except (ModbusException, OSError, TimeoutError) as err:
            self.close()
            raise WallboxTimeoutError(
                f"no answer from unit {self.unit_id} at {self.host}:{self.port}"
            ) from err
        finally:
            _OURS.reset(quiet)
        if response.isError():
            raise WallboxProtocolError(
                f"unit {self.unit_id} refused {name} (Modbus exception "
                f"{getattr(response, 'exception_code', '?')})"
            )
        return response

    async def _read(self, request: ReadRequest) -> list[int]:
        method = {
            Table.COIL: "read_coils",
            Table.DISCRETE: "read_discrete_inputs",
            Table.INPUT: "read_input_registers",
            Table.HOLDING: "read_holding_registers",
        }[request.table]
        response = await self._call(method, request.address, count=request.count)
        if request.table.is_bits:
            return [int(bit) for bit in response.bits[: request.count]]
        registers: list[int] = list(response.registers)  # pymodbus checked the count
        return registers

    async def read_values(self) -> dict[str, float | int | str | bool]:
        """Read every readable register, grouped; values by role."""
        values: dict[str, float | int | str | bool] = {}
        async with self._lock:
            for request in self.plan:
                words = await self._read(request)
                for register in request.registers:
                    offset = register.address - request.address
                    values[register.role] = register.decode(words[offset : offset + register.count])
        return values

    async def read_state(self) -> str | None:
        """Read only the state register (the config flow's probe)."""
        register = self.profile.registers["state"]
        request = ReadRequest(
            table=register.table,
            address=register.address,
            count=register.count,
            registers=(register,),
        )
        async with self._lock:
            words = await self._read(request)
        return register.iec_state(register.decode(words))

    async def read_status(self) -> WallboxStatus:
        """One poll: read everything and interpret it."""
        values = await self.read_values()
        status = self._interpret(values)
        self.energy.update(status)
        return status

    def _interpret(self, values: Mapping[str, float | int | str | bool]) -> WallboxStatus:
        profile = self.profile
        status = WallboxStatus()
        if (raw := values.get("state")) is not None:
            status.raw_state = str(raw)
            status.state = profile.registers["state"].iec_state(raw)
        status.power_w = _float(values.get("power"))
        status.energy_total_wh = _float(values.get("energy_total"))
        status.energy_session_wh = _float(values.get("energy_session"))
        for phase in (1, 2, 3):
            if (current := _float(values.get(f"current_l{phase}"))) is not None:
                status.currents_a[phase] = current
            if (voltage := _float(values.get(f"voltage_l{phase}"))) is not None:
                status.voltages_v[phase] = voltage
        readback = _float(values.get("current_limit", values.get("current_setpoint")))
        if profile.enable_by_register:
            status.enabled = bool(values.get("enable"))
            self.enabled = status.enabled
            if readback is not None and self.desired_current_a is None:
                self.desired_current_a = readback
            status.current_limit_a = readback
        else:
            # Enabling means a setpoint above 0 A; we remember the wanted current.
            if self.enabled is None and readback is not None:
                self.enabled = readback > 0
            if self.desired_current_a is None and readback:
                self.desired_current_a = readback
            status.enabled = self.enabled
            status.current_limit_a = self.desired_current_a
        if (phases := values.get("phases")) is not None:
            status.phases = int(phases)
        return status

    async def _write(self, role: str, value: float | bool) -> None:
        register = self.profile.registers.get(role)
        if register is None or not register.writable:
            raise WallboxWriteRefusedError(f"the profile does not allow writing '{role}'")
        words = register.encode(value)
        async with self._lock:
            if register.table is Table.COIL:
                await self._call("write_coil", register.address, bool(words[0]))
            elif len(words) == 1:
                await self._call("write_register", register.address, words[0])
            else:
                await self._call("write_registers", register.address, words)
        if role == "current_setpoint":
            self.last_setpoint_write = self._clock()

    def _setpoint(self) -> float:
        """What the current register should hold now."""
        if not self.profile.enable_by_register and self.enabled is False:
            return 0.0
        if self.desired_current_a is None:
            return self.profile.current.min
        return self.desired_current_a

    async def set_current(self, amps: float) -> float:
        """Command a charging current; clamped to the profile. Returns what was set."""
        clamped = self.profile.current.clamp(amps)
        if clamped != amps:
            _LOGGER.debug("Clamped %s A to %s A for %s", amps, clamped, self.profile.model)
        self.desired_current_a = clamped
        if self.profile.enable_by_register or self.enabled is not False:
            await self._write("current_setpoint", clamped)
        return clamped

    async def set_enabled(self, enabled: bool) -> None:
        """Allow or stop charging."""
        if self.profile.enable_by_register:
            await self._write("enable", enabled)
            self.enabled = enabled
            return
        self.enabled = enabled
        await self._write("current_setpoint", self._setpoint())

    async def set_phases(self, phases: int) -> None:
        """Switch between the profile's phase options."""
        if phases not in self.profile.phase_options:
            raise WallboxWriteRefusedError(
                f"{phases} phases is not one of {list(self.profile.phase_options)}"
            )
        await self._write("phases", phases)

    async def heartbeat(self) -> bool:
        """Rewrite the setpoint if the profile asks for a heartbeat; True if written."""
        if self.profile.heartbeat is None:
            return False
        await self._write("current_setpoint", self._setpoint())
        return True

    def seconds_since_setpoint_write(self) -> float | None:
        """How long ago the setpoint was last written (None: never)."""
        if self.last_setpoint_write is None:
            return None
        return self._clock() - self.last_setpoint_write


def _float(value: float | int | str | bool | None) -> float | None:
    if value is None or isinstance(value, str):
        return None
    return float(value)


def describe_plan(plan: Iterable[ReadRequest]) -> list[str]:
    """Human-readable read plan (diagnostics, CLI)."""
    return [
        f"{request.table.value} {request.address}+{request.count}: "
        + ", ".join(register.role for register in request.registers)
        for request in plan
    ]
