"""The decoder on real dumps, and the meter state's rules."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from custom_components.hems.sml.engine import (
    MeterFrame,
    MeterState,
    Reading,
    SmlDecoder,
    flag_code,
    manufacturer_name,
    meter_number,
)
from custom_components.hems.sml.simulate import SimulatedMeter, template_from_dump

from .conftest import FIXTURES, ISKRA, corpus_dir

CORPUS_FILES = sorted(path.name for path in corpus_dir().glob("*.bin")) or ["<missing>"]


def decode_all(data: bytes, chunk: int | None = None) -> tuple[SmlDecoder, list[MeterFrame]]:
    decoder = SmlDecoder()
    frames: list[MeterFrame] = []
    pieces = [data] if chunk is None else [data[i : i + chunk] for i in range(0, len(data), chunk)]
    for piece in pieces:
        decoder.add(piece)
        while (frame := decoder.read()) is not None:
            frames.append(frame)
    return decoder, frames


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_dump_decodes_to_expected(corpus: Path, name: str) -> None:
    """Every dump: the valid frame count and the last frame's values match expected.json."""
    expected = json.loads((corpus / "expected.json").read_text())["files"][name]
    decoder, frames = decode_all((corpus / name).read_bytes(), chunk=97)
    assert decoder.valid_frames == len(frames) == expected["valid_frames"]
    last = frames[-1].readings if frames else {}
    assert {k: {"value": v.value, "unit": v.unit} for k, v in last.items()} == expected[
        "last_frame"
    ]


def test_corpus_has_all_dumps(corpus: Path) -> None:
    """expected.json and the dumps agree (37 files)."""
    expected = json.loads((corpus / "expected.json").read_text())["files"]
    assert sorted(expected) == CORPUS_FILES
    assert len(CORPUS_FILES) == 37


def test_bad_crc_frames_are_dropped_and_counted() -> None:
    """EasyMeter dump: 3 frames fail the CRC, 4 pass."""
    decoder, frames = decode_all((FIXTURES / "EasyMeter_Q3A_A1064V1009.bin").read_bytes())
    assert (decoder.crc_errors, decoder.valid_frames, len(frames)) == (3, 4, 4)
    assert decoder.crc == "x25"


def test_dzg_dvs7412_power_is_corrected() -> None:
    """A raw -299.12 W from a DZG DVS-7412 in the broken serial range is 356.24 W."""
    _, frames = decode_all((FIXTURES / "DZG_DVS-7412.2_jmberg.bin").read_bytes())
    assert frames[-1].readings["16.7.0"] == Reading(356.24, "W")
    assert frames[-1].power == 356.24


def test_meter_without_pin_has_energy_but_no_power() -> None:
    """Holley without PIN: whole kWh in 1.8.0, no power value."""
    _, frames = decode_all((FIXTURES / "HOLLEY_DTZ541-BDBA_without_PIN.bin").read_bytes())
    assert set(frames[-1].readings) == {"1.8.0"}
    assert frames[-1].power is None


def test_absolute_power_gets_its_sign_from_the_status_word() -> None:
    """EMH ED300L sends only 15.7.0; the energy register's status says it is exporting."""
    _, frames = decode_all((FIXTURES / "EMH-ED300L_delivery.bin").read_bytes())
    assert frames[-1].readings["15.7.0"].value == 126.5
    assert frames[-1].power == -126.5


@pytest.mark.parametrize("crc", ["x25", "kermit"])
def test_crc_variant_is_detected_and_kept(crc: str) -> None:
    """A kermit stream (Holley DTZ541 on RS485) decodes; the variant is remembered."""
    server_id, entries = template_from_dump(ISKRA.read_bytes())
    meter = SimulatedMeter(server_id, entries, crc)  # type: ignore[arg-type]
    decoder, frames = decode_all(b"".join(meter.next_frame() for _ in range(3)), chunk=50)
    assert (decoder.crc, decoder.crc_locked, len(frames), decoder.crc_errors) == (crc, True, 3, 0)
    # Once locked, a frame of the other variant is a CRC error, not a switch.
    other = SimulatedMeter(server_id, entries, "x25" if crc == "kermit" else "kermit")
    decoder.add(other.next_frame())
    assert decoder.read() is None
    assert (decoder.crc, decoder.crc_errors) == (crc, 1)


def test_given_crc_variant_is_not_switched() -> None:
    """A decoder told the variant counts the other one as CRC errors."""
    decoder = SmlDecoder("kermit")
    decoder.add(ISKRA.read_bytes())
    assert decoder.read() is None
    assert decoder.crc_errors == 10


def test_server_id_without_obis_entry_comes_from_the_message() -> None:
    """Meters without 0.0.9/96.1.0 still give their server id (from the get-list response)."""
    server_id, entries = template_from_dump(ISKRA.read_bytes())
    kept = [e for e in entries if e.unit is not None]
    meter = SimulatedMeter(b"\x06EMH\x01\x02\x03\x04\x05\x06", kept)
    _, frames = decode_all(meter.next_frame())
    assert frames[0].server_id == "06454d48010203040506"
    assert frames[0].manufacturer == "EMH"


def test_frames_without_readings_are_skipped() -> None:
    """A frame that carries no value with a unit is not a valid meter frame."""
    server_id, entries = template_from_dump(ISKRA.read_bytes())
    meter = SimulatedMeter(server_id, [e for e in entries if e.unit is None])
    meter.entries = [e for e in meter.entries if e.unit is None]
    decoder, frames = decode_all(meter.next_frame())
    assert (frames, decoder.valid_frames, decoder.crc_errors) == ([], 0, 0)


@pytest.mark.parametrize(
    ("server_id", "flag", "name", "number"),
    [
        ("09014553591103b599a5", "ESY", "EasyMeter", "1ESY1162232997"),
        ("0a01445a47000282225e", "DZG", "DZG Metering", "1DZG0042082910"),
        ("06454d4801027156cd45", "EMH", "EMH metering", "06454d4801027156cd45"),
        ("0a015a5a5a0000000001", "ZZZ", "ZZZ", "1ZZZ0000000001"),
        ("3032323830383136", None, None, "02280816"),
        ("01a815986480020102", None, None, "01a815986480020102"),
        ("zz", None, None, None),
        (None, None, None, None),
    ],
)
def test_server_id_helpers(
    server_id: str | None, flag: str | None, name: str | None, number: str | None
) -> None:
    """FLAG code, manufacturer name and printed meter number from a server id."""
    assert flag_code(server_id) == flag
    assert manufacturer_name(server_id) == name
    assert meter_number(server_id) == (number if server_id != "zz" else "zz")


def _frame(power: float | None, values: dict[str, float]) -> MeterFrame:
    readings = {key: Reading(value, "Wh") for key, value in values.items()}
    return MeterFrame("0a01445a4700039e2053", readings, power)


def test_counter_running_backwards_is_refused_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A lower 1.8.0 is refused (the last value stays), logged once, and forgotten once the
    meter counts forward again; other values may fall."""
    state = MeterState()
    assert state.update(_frame(100.0, {"1.8.0": 1000.0, "16.7.0": 5.0})) is True
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            assert state.update(_frame(-50.0, {"1.8.0": 999.0, "16.7.0": -3.0})) is False
    assert state.values == {"1.8.0": 1000.0, "16.7.0": -3.0}
    assert state.refused_total == 3
    assert len([r for r in caplog.records if "refused" in r.getMessage()]) == 1
    state.update(_frame(None, {"1.8.0": 1001.0}))
    assert state.refused == set()
    assert state.values["1.8.0"] == 1001.0


def test_grid_import_and_export_power() -> None:
    """Signed power splits into two non-negative sensors."""
    state = MeterState()
    assert (state.grid_import_power, state.grid_export_power) == (None, None)
    state.update(_frame(250.0, {"1.8.0": 1.0}))
    assert (state.grid_import_power, state.grid_export_power) == (250.0, 0.0)
    state.update(_frame(-40.0, {"1.8.0": 1.0}))
    assert (state.grid_import_power, state.grid_export_power) == (0.0, 40.0)
    state.update(_frame(0.0, {"1.8.0": 1.0}))
    assert str(state.grid_export_power) == "0.0"


def test_power_from_1_7_0_and_2_7_0() -> None:
    """Meters without 16.7.0 but with 1.7.0 (and 2.7.0) still give signed power."""
    from custom_components.hems.sml.engine import _signed_power

    assert _signed_power({"1.7.0": Reading(14.4, "W")}, None) == 14.4
    assert _signed_power({"1.7.0": Reading(0, "W"), "2.7.0": Reading(30, "W")}, None) == -30
    assert _signed_power({"15.7.0": Reading(12, "W")}, None) == 12
    assert _signed_power({}, None) is None


def test_corrupt_data_does_not_crash() -> None:
    """Frames that pass the CRC but do not parse are counted, not raised."""
    decoder, frames = decode_all(
        (corpus_dir() / "EMH_eHZ-IW8E2A5L0EK2P_with_error.bin").read_bytes()
    )
    assert frames == []
    assert decoder.invalid_frames == 11
    decoder.clear()
    assert decoder.read() is None


@pytest.mark.parametrize(
    ("obis", "power", "expected"),
    [
        ("0100100700ff", 12_000, 12_000.0),  # positive: nothing to fix
        ("0100100700ff", -29_912, -29_912.0),  # sent as 4 bytes: a genuine negative value
        ("010010070000", -29_912, -29_912.0),  # another F field: not the entry the bug hits
    ],
)
def test_dzg_fix_leaves_other_values_alone(obis: str, power: int, expected: float) -> None:
    """Only a short negative 16.7.0*255 of a broken DZG meter is reinterpreted."""
    from custom_components.hems.sml.simulate import Entry

    broken_dzg = bytes.fromhex("0a01445a47000282225e")
    entries = [
        Entry(bytes.fromhex("0100600100ff"), None, None, None, broken_dzg.hex()),
        Entry(bytes.fromhex("0100010800ff"), None, 30, -1, 1000),
        Entry(bytes.fromhex(obis), None, 27, 0, power),
    ]
    meter = SimulatedMeter(broken_dzg, entries)
    meter.next_frame()  # the meter moves its own 16.7.0*255; keep ours
    entries[-1].value = power
    from custom_components.hems.sml.simulate import encode_frame

    _, frames = decode_all(encode_frame(broken_dzg, entries))
    assert frames[0].readings["16.7.0"].value == expected


def test_dzg_without_power_and_ascii_server_id() -> None:
    """A broken DZG frame without power; an ASCII id in 0.0.9 becomes hex."""
    from custom_components.hems.sml.simulate import Entry, encode_frame

    broken_dzg = bytes.fromhex("0a01445a47000282225e")
    entries = [
        Entry(bytes.fromhex("0100600100ff"), None, None, None, broken_dzg.hex()),
        Entry(bytes.fromhex("0100010800ff"), None, 30, -1, 1000),
    ]
    _, frames = decode_all(encode_frame(broken_dzg, entries))
    assert frames[0].power is None
    entries[0] = Entry(bytes.fromhex("0100000009ff"), None, None, None, "METER42")
    _, frames = decode_all(encode_frame(b"METER42", entries))
    assert frames[0].server_id == b"METER42".hex()
    assert meter_number(frames[0].server_id) == "METER42"
