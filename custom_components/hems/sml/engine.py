"""SML decoding on top of smllib: frames in, meter readings out. No Home Assistant here.

The same code path serves the integration, ``scripts/sml-decode``, the benchmark and the
tests: :class:`SmlDecoder` takes raw bytes from any transport and hands out
:class:`MeterFrame` objects; :class:`MeterState` keeps the latest accepted values and makes
sure an energy counter never runs backwards.
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
from typing import Final, Literal, NamedTuple

from smllib.const import UNITS
from smllib.crc import kermit, x25
from smllib.errors import CrcError, SmlLibException
from smllib.reader import SmlStreamReader

_LOGGER = logging.getLogger(__name__)

type CrcVariant = Literal["x25", "kermit"]
CRC_VARIANTS: Final[tuple[CrcVariant, ...]] = ("x25", "kermit")
_CRC_FUNCS = {"x25": x25.get_crc, "kermit": kermit.get_crc}
# smllib's unit symbols, with plain ASCII where a symbol is awkward in JSON and logs.
_UNITS: Final[dict[int, str]] = dict(UNITS) | {8: "deg"}

# OBIS entries that carry the meter's server id (0.0.9 "device id", 96.1.0 "serial").
_SERVER_ID_KEYS: Final = ("0.0.9", "96.1.0")

# Manufacturer FLAG codes (DLMS flag ids) of meters sold with an SML interface.
MANUFACTURERS: Final[dict[str, str]] = {
    "APA": "Apator",
    "DNT": "Dr. Neuhaus",
    "DZG": "DZG Metering",
    "EBZ": "eBZ",
    "EFR": "EFR",
    "EMH": "EMH metering",
    "ESY": "EasyMeter",
    "HAG": "Hager",
    "HLY": "Holley",
    "ISK": "Iskraemeco",
    "ITR": "Itron",
    "KFM": "Kaifa",
    "LGZ": "Landis+Gyr",
    "MKS": "MAK-SAT",
    "NES": "Echelon",
    "SEC": "Schneider Electric",
    "SMC": "Sagemcom",
    "ZPA": "ZPA Smart Energy",
}

# DZG DVS-7412 meters in these serial ranges encode positive active power as a too short
# signed integer (a raw -299.12 W is really 356.24 W); serials from 60000000 are fixed.
_DZG_BROKEN_SERIALS: Final = ((42_000_000, 48_999_999), (55_000_000, 58_999_999))
_DZG_POWER_ENTRY: Final = bytes.fromhex("77070100100700ff")

# Bit 5 of the FNN status word of the energy register: the meter is exporting (-A).
_STATUS_EXPORTING: Final = 0x20


def octet_hex(value: str) -> str:
    """An octet string from smllib as hex (smllib turns alphanumeric ASCII into text)."""
    try:
        bytes.fromhex(value)
    except ValueError:
        return value.encode().hex()
    return value


class Reading(NamedTuple):
    """One scaled value and its unit."""

    value: float
    unit: str | None


@dataclass(slots=True, frozen=True)
class MeterFrame:
    """The readings of one valid frame, keyed by short OBIS code (``1.8.0``)."""

    server_id: str | None
    readings: dict[str, Reading]
    # Active power in W, signed, import positive (from 16.7.0, 1.7.0/2.7.0 or 15.7.0).
    power: float | None

    @property
    def manufacturer(self) -> str | None:
        """The FLAG code of the meter's manufacturer, if the server id carries one."""
        return flag_code(self.server_id)


def flag_code(server_id: str | None) -> str | None:
    """Return the three-letter manufacturer code inside a server id (``EMH``, ``ISK``...)."""
    if not server_id:
        return None
    try:
        raw = bytes.fromhex(server_id)
    except ValueError:
        return None
    # DIN 43863-5 ids: 0x09/0x0A, medium, FLAG, ...; older EMH ids: 0x06, FLAG, ...
    for start in (2, 1):
        code = raw[start : start + 3]
        if len(code) == 3 and all(0x41 <= byte <= 0x5A for byte in code):
            return code.decode("ascii")
    return None


def manufacturer_name(server_id: str | None) -> str | None:
    """Return the manufacturer's name for a server id (or its FLAG code if unknown)."""
    code = flag_code(server_id)
    return MANUFACTURERS.get(code, code) if code else None


def meter_number(server_id: str | None) -> str | None:
    """Return the number printed on the meter (``1ESY1162232997``) or the raw server id."""
    if not server_id:
        return None
    try:
        raw = bytes.fromhex(server_id)
    except ValueError:
        return server_id
    if len(raw) == 10 and raw[0] in (0x09, 0x0A) and flag_code(server_id):
        serial = int.from_bytes(raw[6:10])
        return f"{raw[1]:x}{raw[2:5].decode('ascii')}{raw[5]:02x}{serial:08d}"
    if all(0x20 <= byte < 0x7F for byte in raw):
        return raw.decode("ascii")
    return server_id


def _is_broken_dzg(server_id: str) -> bool:
    raw = bytes.fromhex(server_id)
    if len(raw) != 10 or raw[:5] != b"\x0a\x01DZG":
        return False
    serial = int.from_bytes(raw[5:10])
    return any(low <= serial <= high for low, high in _DZG_BROKEN_SERIALS)


class SmlDecoder:
    """Turn a byte stream into :class:`MeterFrame` objects.

    Feed bytes with :meth:`add`, then call :meth:`read` until it returns ``None``. Frames
    that fail the CRC are dropped and counted; the CRC variant (x25 or Holley's kermit) is
    detected from the first valid frame unless it is given, and then kept.
    """

    def __init__(self, crc: CrcVariant | None = None) -> None:
        self._crc: CrcVariant = crc or "x25"
        self.crc_locked = crc is not None
        self._reader = SmlStreamReader(crc=self._crc)
        self.valid_frames = 0
        self.crc_errors = 0
        self.invalid_frames = 0
        self._server_id: str | None = None
        self._broken_dzg = False

    @property
    def crc(self) -> CrcVariant:
        """The CRC variant in use."""
        return self._crc

    def add(self, data: bytes) -> None:
        """Append received bytes."""
        self._reader.add(data)

    def clear(self) -> None:
        """Forget buffered bytes (after a reconnect)."""
        self._reader.clear()

    def read(self) -> MeterFrame | None:
        """Return the next valid frame with readings, or None when more bytes are needed."""
        reader = self._reader
        while True:
            try:
                frame = reader.get_frame()
            except CrcError as err:
                if not self.crc_locked and self._switch_crc(err):
                    continue
                self.crc_errors += 1
                continue
            if frame is None:
                return None
            try:
                decoded = self._decode(frame)
            except (SmlLibException, ValueError, TypeError, IndexError) as err:
                self.invalid_frames += 1
                _LOGGER.debug("Dropped an SML frame that does not parse: %r", err)
                continue
            if decoded is not None:
                self.valid_frames += 1
                if not self.crc_locked:
                    self.crc_locked = True
                return decoded

    def _switch_crc(self, err: CrcError) -> bool:
        """Try the other CRC variant on a frame that failed; switch if that one fits."""
        other: CrcVariant = "kermit" if self._crc == "x25" else "x25"
        check = _CRC_FUNCS[other]
        if check(err.msg[:-2]) != err.crc_msg:
            return False
        _LOGGER.debug("SML stream uses the %s CRC", other)
        self._crc = other
        self._reader.crc_func = check
        # Put the frame back in front of the buffer: smllib decodes it with the new CRC.
        self._reader.bytes = bytes(err.msg) + self._reader.bytes
        return True

    def _decode(self, frame: object) -> MeterFrame | None:
        entries = frame.get_obis()  # type: ignore[attr-defined]
        readings: dict[str, Reading] = {}
        status: int | None = None
        server_id = self._server_id
        for entry in entries:
            key: str = entry.obis.obis_short
            unit = entry.unit
            if unit is None:
                if key in _SERVER_ID_KEYS and isinstance(entry.value, str):
                    server_id = octet_hex(entry.value)
                continue
            value = entry.get_value()
            if not isinstance(value, int | float):
                continue
            readings[key] = Reading(float(value), _UNITS.get(unit))
            if status is None and key in ("1.8.0", "2.8.0") and isinstance(entry.status, int):
                status = entry.status
        if not readings:
            return None
        if server_id is None:
            server_id = self._server_id_from_messages(frame)
        if server_id != self._server_id:
            self._server_id = server_id
            self._broken_dzg = server_id is not None and _is_broken_dzg(server_id)
        if self._broken_dzg:
            self._fix_dzg_power(frame, readings)
        return MeterFrame(server_id, readings, _signed_power(readings, status))

    @staticmethod
    def _server_id_from_messages(frame: object) -> str | None:
        """Parse the whole frame for the server id (meters without a 0.0.9 entry)."""
        try:
            messages = frame.parse_frame()  # type: ignore[attr-defined]
        except (SmlLibException, ValueError, TypeError, IndexError):
            return None  # the readings are fine; only the envelope is not
        for message in messages:
            server_id = getattr(message.message_body, "server_id", None)
            if isinstance(server_id, str) and server_id:
                return server_id
        return None

    @staticmethod
    def _fix_dzg_power(frame: object, readings: dict[str, Reading]) -> None:
        """Read a negative 16.7.0 of a broken DZG meter as the unsigned value it is."""
        power = readings.get("16.7.0")
        if power is None or power.value >= 0:
            return
        raw: bytes = frame.bytes  # type: ignore[attr-defined]
        pos = raw.find(_DZG_POWER_ENTRY)
        if pos == -1:
            return
        entry = frame.get_value(pos)  # type: ignore[attr-defined]
        frame._parse_msg(entry)  # type: ignore[attr-defined]
        value = entry.value[5]
        width = len(value.msg) - 1
        if width > 3 or not isinstance(value.value, int):
            return  # genuine negative values come as 4 bytes
        scaler = entry.value[4].value
        if not isinstance(scaler, int):
            scaler = 0
        corrected = (value.value + (1 << (8 * width))) * 10**scaler
        readings["16.7.0"] = Reading(round(corrected, abs(scaler) + 3), power.unit)


def _signed_power(readings: dict[str, Reading], status: int | None) -> float | None:
    """Active power, import positive, from whatever the meter sends."""
    if (power := readings.get("16.7.0")) is not None:
        return power.value
    imported = readings.get("1.7.0")
    exported = readings.get("2.7.0")
    if imported is not None or exported is not None:
        return (imported.value if imported else 0.0) - (exported.value if exported else 0.0)
    if (absolute := readings.get("15.7.0")) is not None:
        exporting = status is not None and bool(status & _STATUS_EXPORTING)
        return -absolute.value if exporting else absolute.value
    return None


def is_energy_counter(key: str) -> bool:
    """Whether an OBIS key is an energy register (1.8.x, 2.8.x)."""
    return key.startswith(("1.8.", "2.8."))


class MeterState:
    """The latest accepted values of one meter.

    An energy register that would run backwards is refused (its last value stays) and
    logged once until the meter counts forward again.
    """

    def __init__(self) -> None:
        self.server_id: str | None = None
        self.values: dict[str, float] = {}
        self.units: dict[str, str | None] = {}
        self.power: float | None = None
        self.refused: set[str] = set()
        self.refused_total = 0

    def update(self, frame: MeterFrame) -> bool:
        """Take a frame's readings; return True when the meter sent a new OBIS key."""
        values = self.values
        new_key = False
        if frame.server_id is not None:
            self.server_id = frame.server_id
        for key, (value, unit) in frame.readings.items():
            last = values.get(key)
            if last is None:
                new_key = True
                self.units[key] = unit
            elif value < last and is_energy_counter(key):
                self.refused_total += 1
                if key not in self.refused:
                    self.refused.add(key)
                    _LOGGER.warning(
                        "SML meter %s: refused %s = %s %s, lower than the last value %s",
                        meter_number(self.server_id),
                        key,
                        value,
                        unit or "",
                        last,
                    )
                continue
            elif key in self.refused:
                self.refused.discard(key)
            values[key] = value
        self.power = frame.power
        return new_key

    @property
    def grid_import_power(self) -> float | None:
        """Power drawn from the grid in W (never negative)."""
        power = self.power
        return None if power is None else (power if power > 0 else 0.0)

    @property
    def grid_export_power(self) -> float | None:
        """Power fed into the grid in W (never negative)."""
        power = self.power
        return None if power is None else (-power if power < 0 else 0.0)
