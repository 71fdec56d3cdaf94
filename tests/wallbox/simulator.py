"""Wallbox simulators: pymodbus's TCP server holding each box's register map.

The register layouts are written here independently of the profile files (from the
published maps), so a mistake in a profile shows up as a failing test. One small state
machine models the car and the box: plug in, start, charge at the commanded current,
fault; Alfen falls back to its safe current 25 s after the last setpoint write.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
import contextlib
from dataclasses import dataclass, field
import struct
import time

from pymodbus.datastore import ModbusBaseSlaveContext, ModbusServerContext
from pymodbus.server import ModbusTcpServer

VOLTAGE = 230.0
MIN_CURRENT = 6.0


def words_be(fmt: str, value: float) -> list[int]:
    """Big-endian words of a struct-packed value."""
    data = struct.pack(">" + fmt, value)
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def words_le(fmt: str, value: float) -> list[int]:
    """The same words, low word first."""
    return list(reversed(words_be(fmt, value)))


class FakeClock:
    """Seconds that only move when told to (asyncio keeps real time)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class EvSimulation:
    """The car and the charge controller, whatever the register map."""

    clock: Callable[[], float] = time.monotonic
    plugged: bool = False
    fault: bool = False
    enabled: bool = True
    setpoint_a: float = 16.0
    phases: int = 3
    energy_wh: float = 1000.0
    session_start_wh: float = 1000.0
    # Alfen-style fallback: None means the box keeps its setpoint forever.
    fallback_after: float | None = None
    safe_current_a: float = 6.0
    last_setpoint_write: float = field(default=0.0)
    fallbacks: int = 0
    _last_tick: float | None = None

    def __post_init__(self) -> None:
        self.last_setpoint_write = self.clock()

    # the car
    def plug_in(self) -> None:
        self.tick()
        self.plugged = True
        self.session_start_wh = self.energy_wh

    def unplug(self) -> None:
        self.tick()
        self.plugged = False

    def set_fault(self, fault: bool) -> None:
        self.tick()
        self.fault = fault

    # the box
    @property
    def falling_back(self) -> bool:
        return (
            self.fallback_after is not None
            and self.clock() - self.last_setpoint_write > self.fallback_after
        )

    @property
    def offered_a(self) -> float:
        """The current the box offers the car now."""
        if not self.enabled:
            return 0.0
        if self.falling_back:
            return self.safe_current_a
        return self.setpoint_a

    @property
    def state(self) -> str:
        if self.fault:
            return "F"
        if not self.plugged:
            return "A"
        if self.offered_a >= MIN_CURRENT:
            return "C"
        return "B"

    @property
    def current_a(self) -> float:
        return self.offered_a if self.state == "C" else 0.0

    @property
    def power_w(self) -> float:
        return self.current_a * VOLTAGE * self.phases

    def tick(self) -> None:
        """Integrate energy up to now."""
        now = self.clock()
        if self._last_tick is not None and now > self._last_tick:
            self.energy_wh += self.power_w * (now - self._last_tick) / 3600
        self._last_tick = now

    def command_current(self, amps: float) -> None:
        self.tick()
        if self.falling_back:
            self.fallbacks += 1
        self.setpoint_a = amps
        self.last_setpoint_write = self.clock()

    @property
    def session_wh(self) -> float:
        return self.energy_wh - self.session_start_wh


class SimulatedBox(ModbusBaseSlaveContext):
    """A register map over an :class:`EvSimulation`; reads outside the map are refused."""

    unit_id = 1
    valid: dict[str, tuple[range, ...]] = {}

    def __init__(self, sim: EvSimulation) -> None:
        self.sim = sim
        self.reads: list[tuple[str, int, int]] = []
        self.writes: list[tuple[str, int, list[int]]] = []

    def reset(self) -> None:  # pragma: no cover - required by the interface
        """Nothing to reset."""

    def validate(self, fc_as_hex: int, address: int, count: int = 1) -> bool:
        ranges = self.valid.get(self.decode(fc_as_hex), ())
        return any(address in r and address + count - 1 in r for r in ranges)

    def image(self, table: str) -> dict[int, int]:  # pragma: no cover - overridden
        raise NotImplementedError

    def getValues(  # noqa: N802 - pymodbus API
        self, fc_as_hex: int, address: int, count: int = 1
    ) -> Sequence[int | bool]:
        table = self.decode(fc_as_hex)
        if fc_as_hex in (1, 2, 3, 4):
            self.reads.append((table, address, count))
        self.sim.tick()
        image = self.image(table)
        return [image.get(address + i, 0) for i in range(count)]

    def setValues(  # noqa: N802 - pymodbus API
        self, fc_as_hex: int, address: int, values: Sequence[int | bool]
    ) -> None:
        table = self.decode(fc_as_hex)
        self.writes.append((table, address, [int(v) for v in values]))
        self.write(table, address, [int(v) for v in values])

    def write(self, table: str, address: int, values: list[int]) -> None:  # pragma: no cover
        raise NotImplementedError


def _put(image: dict[int, int], address: int, words: list[int]) -> None:
    for i, word in enumerate(words):
        image[address + i] = word


class PhoenixBox(SimulatedBox):
    """Phoenix Contact EV Charge Control: unit 255, 32-bit values low word first."""

    unit_id = 255
    valid = {
        "i": (range(100, 160),),
        "h": (range(300, 1000),),
        "c": (range(400, 420),),
    }

    def image(self, table: str) -> dict[int, int]:
        sim = self.sim
        image: dict[int, int] = {}
        if table == "i":
            image[100] = ord(sim.state)
            for phase in range(3):
                _put(image, 108 + 2 * phase, words_le("I", 230))
                current = sim.current_a if phase < sim.phases else 0.0
                _put(image, 114 + 2 * phase, words_le("I", round(current * 1000)))
            _put(image, 120, words_le("I", round(sim.power_w)))
        elif table == "h":
            image[528] = round(sim.setpoint_a)
            _put(image, 904, words_le("I", round(sim.energy_wh)))
        elif table == "c":
            image[400] = int(sim.enabled)
        return image

    def write(self, table: str, address: int, values: list[int]) -> None:
        if table == "c" and address == 400:
            self.sim.tick()
            self.sim.enabled = bool(values[0])
        elif table == "h" and address == 528:
            self.sim.command_current(values[0])


class AbbBox(SimulatedBox):
    """ABB Terra AC: unit 1, big-endian 32-bit, mA; setpoint 0 pauses."""

    unit_id = 1
    valid = {"h": (range(0x4000, 0x4020), range(0x4100, 0x4104))}
    CODES = {"A": 0, "B": 2, "C": 4, "D": 4, "F": 5}

    def image(self, table: str) -> dict[int, int]:
        sim = self.sim
        image: dict[int, int] = {}
        # Bits above the low seven carry other flags on the real box.
        _put(image, 0x400C, words_be("I", 0x0100 | self.CODES[sim.state]))
        _put(image, 0x400E, words_be("I", round(sim.offered_a * 1000)))
        for phase in range(3):
            current = sim.current_a if phase < sim.phases else 0.0
            _put(image, 0x4010 + 2 * phase, words_be("I", round(current * 1000)))
        _put(image, 0x401C, words_be("I", round(sim.power_w)))
        _put(image, 0x401E, words_be("I", round(sim.session_wh)))
        return image

    def write(self, table: str, address: int, values: list[int]) -> None:
        if address == 0x4100 and len(values) == 2:
            milliamps = (values[0] << 16) | values[1]
            self.sim.command_current(milliamps / 1000)


class AlfenBox(SimulatedBox):
    """Alfen Eve: unit 1, floats big-endian, setpoint must be rewritten within 25 s."""

    unit_id = 1
    valid = {"h": (range(300, 430), range(1200, 1220))}

    def __init__(self, sim: EvSimulation) -> None:
        super().__init__(sim)
        sim.fallback_after = 25.0

    def image(self, table: str) -> dict[int, int]:
        sim = self.sim
        image: dict[int, int] = {}
        for phase in range(3):
            _put(image, 306 + 2 * phase, words_be("f", 230.0))
            current = sim.current_a if phase < sim.phases else 0.0
            _put(image, 320 + 2 * phase, words_be("f", current))
        _put(image, 344, words_be("f", sim.power_w))
        _put(image, 374, words_be("d", sim.energy_wh))
        text = {"A": "A", "B": "B1", "C": "C2", "D": "D2", "E": "E", "F": "F"}[sim.state]
        raw = text.encode().ljust(10, b"\x00")
        _put(image, 1201, [int.from_bytes(raw[i : i + 2], "big") for i in range(0, 10, 2)])
        _put(image, 1206, words_be("f", sim.offered_a))
        _put(image, 1210, words_be("f", sim.setpoint_a))
        image[1215] = sim.phases
        return image

    def write(self, table: str, address: int, values: list[int]) -> None:
        if address == 1210 and len(values) == 2:
            data = b"".join(v.to_bytes(2, "big") for v in values)
            self.sim.command_current(struct.unpack(">f", data)[0])
        elif address == 1215:
            self.sim.tick()
            self.sim.phases = values[0]


BOXES: dict[str, type[SimulatedBox]] = {"phoenix": PhoenixBox, "abb": AbbBox, "alfen": AlfenBox}


@dataclass
class RunningBox:
    """A simulator listening on 127.0.0.1."""

    server: ModbusTcpServer
    box: SimulatedBox
    port: int

    @property
    def sim(self) -> EvSimulation:
        return self.box.sim

    async def stop(self) -> None:
        await self.server.shutdown()


async def start_box(
    brand: str, clock: Callable[[], float] = time.monotonic, port: int = 0
) -> RunningBox:
    """Start a simulated wallbox of a brand on a free (or given) loopback port."""
    box = BOXES[brand](EvSimulation(clock=clock))
    context = ModbusServerContext(slaves={box.unit_id: box}, single=False)
    server = ModbusTcpServer(context, address=("127.0.0.1", port), ignore_missing_slaves=True)
    await server.serve_forever(background=True)
    assert server.transport is not None, "the simulator could not listen"
    bound = server.transport.sockets[0].getsockname()[1]
    return RunningBox(server=server, box=box, port=bound)


@contextlib.asynccontextmanager
async def running_box(
    brand: str, clock: Callable[[], float] = time.monotonic
) -> AsyncIterator[RunningBox]:
    """Start a simulated wallbox and stop it afterwards."""
    running = await start_box(brand, clock)
    try:
        yield running
    finally:
        await running.stop()
