"""scripts/wallbox against simulated wallboxes."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess

import pytest

from custom_components.hems.wallbox.cli import run

from .conftest import StartBox
from .test_driver import free_port

SCRIPT = Path(__file__).parents[2] / "scripts" / "wallbox"


async def test_status(boxes: StartBox, capsys: pytest.CaptureFixture[str]) -> None:
    """status prints the readings as JSON."""
    box = await boxes("alfen")
    box.sim.plug_in()
    assert (
        await run(["--profile", "alfen", "--host", "127.0.0.1", "--port", str(box.port), "status"])
        == 0
    )
    status = json.loads(capsys.readouterr().out)
    assert status["state"] == "C"
    assert status["power_w"] == pytest.approx(11040)
    assert status["energy_wh"] == pytest.approx(1000, abs=1)
    assert status["current_limit_a"] == pytest.approx(16)
    assert status["enabled"] is True
    assert status["phases"] == 3


@pytest.mark.parametrize("brand", ["phoenix", "abb", "alfen"])
async def test_commands_print_the_read_back(
    boxes: StartBox, capsys: pytest.CaptureFixture[str], brand: str
) -> None:
    """set-current, disable and enable act on the box and print what it reports."""
    box = await boxes(brand)
    box.sim.plug_in()
    base = ["--profile", brand, "--host", "127.0.0.1", "--port", str(box.port)]
    if brand == "phoenix":
        base += ["--unit", "255"]
    assert await run([*base, "set-current", "40"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["current_limit_a"] == 32  # clamped to the profile
    assert box.sim.setpoint_a == 32
    assert await run([*base, "disable"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["state"] == "B"
    assert status["power_w"] == 0
    if brand == "phoenix":  # the others forget "disabled" between runs: 0 A is the pause
        assert status["enabled"] is False
    assert await run([*base, "enable"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["state"] == "C"
    assert status["enabled"] is True


async def test_unreachable(socket_enabled: None, capsys: pytest.CaptureFixture[str]) -> None:
    """A box that is not there: exit code 1 and one line on stderr."""
    port = str(free_port())
    assert await run(["--profile", "abb", "--host", "127.0.0.1", "--port", port, "status"]) == 1
    assert "cannot connect" in capsys.readouterr().err


def test_script_runs() -> None:
    """The shell wrapper starts the module (help needs no wallbox)."""
    result = subprocess.run(
        [str(SCRIPT), "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "set-current" in result.stdout
