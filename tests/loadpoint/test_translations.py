"""Every status, reason code and mode the engine knows has an English and German text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.hems.loadpoint.controller import ChargeMode, ReasonCode, Status

FOLDER = Path(__file__).parents[2] / "custom_components" / "hems" / "loadpoint"


@pytest.fixture(params=["strings.json", "translations/de.json"])
def strings(request: pytest.FixtureRequest) -> dict[str, Any]:
    return dict(json.loads((FOLDER / request.param).read_text(encoding="utf-8")))


def test_enum_states_are_translated(strings: dict[str, Any]) -> None:
    sensors = strings["entity"]["sensor"]
    assert set(sensors["loadpoint_status"]["state"]) == {str(s) for s in Status}
    assert set(sensors["loadpoint_reason"]["state"]) == {str(r) for r in ReasonCode}
    modes = {str(m) for m in ChargeMode}
    assert set(strings["entity"]["select"]["loadpoint_mode"]["state"]) == modes
    assert set(strings["selector"]["loadpoint_mode"]["options"]) == modes


def test_reason_params_are_named(strings: dict[str, Any]) -> None:
    """Each param the engine documents for a reason code has an attribute name."""
    named = set(strings["entity"]["sensor"]["loadpoint_reason"]["state_attributes"])
    source = (FOLDER / "controller.py").read_text(encoding="utf-8")
    documented: set[str] = set()
    for chunk in source.split("Params:")[1:]:
        text = chunk.split('"""')[0].replace("(target)", "")
        documented |= {p.strip(" .\n") for p in text.replace("\n", " ").split(",")}
    assert {"remaining_s", "surplus_w", "soc"} <= documented
    assert documented - named == set()
