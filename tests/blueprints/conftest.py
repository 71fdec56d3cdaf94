"""Fixtures: a test Home Assistant that loads the shipped blueprints from disk."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

REPO_ROOT = Path(__file__).resolve().parents[2]
BLUEPRINT_SOURCE = REPO_ROOT / "blueprints" / "automation" / "hems"

type SetupBlueprint = Callable[[str, dict[str, Any]], Awaitable[None]]
type MoveTime = Callable[..., Awaitable[None]]


@pytest.fixture
async def blueprint_hass(hass: HomeAssistant, tmp_path: Path) -> HomeAssistant:
    """Home Assistant with its config dir in tmp_path and our blueprints in it."""
    hass.config.config_dir = str(tmp_path)
    await hass.config.async_set_time_zone("UTC")
    target = Path(hass.config.path("blueprints", "automation", "hems"))
    target.mkdir(parents=True)
    for source in BLUEPRINT_SOURCE.glob("*.yaml"):
        shutil.copy(source, target / source.name)
    assert await async_setup_component(hass, "homeassistant", {})
    return hass


@pytest.fixture
async def setup_blueprint(blueprint_hass: HomeAssistant) -> AsyncIterator[SetupBlueprint]:
    """Create one automation from a shipped blueprint with the given inputs.

    At teardown the automation is switched off, which cancels its pending `for:`
    timers (the test harness fails on lingering timers).
    """

    async def _setup(blueprint: str, inputs: dict[str, Any]) -> None:
        assert await async_setup_component(
            blueprint_hass,
            AUTOMATION_DOMAIN,
            {
                AUTOMATION_DOMAIN: {
                    "id": "under_test",
                    "alias": "Under test",
                    "use_blueprint": {"path": f"hems/{blueprint}", "input": inputs},
                }
            },
        )
        await blueprint_hass.async_block_till_done()
        state = blueprint_hass.states.get("automation.under_test")
        assert state is not None, "the blueprint did not create an automation"
        assert state.state == "on"

    yield _setup
    if blueprint_hass.states.get("automation.under_test") is not None:
        await blueprint_hass.services.async_call(
            AUTOMATION_DOMAIN, "turn_off", {"entity_id": "automation.under_test"}, blocking=True
        )
        await blueprint_hass.async_block_till_done()


@pytest.fixture
def move_time(blueprint_hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> MoveTime:
    """Move the frozen clock (to a datetime or by seconds) and fire time listeners."""

    async def _move(to: datetime | None = None, *, seconds: float = 0, minutes: float = 0) -> None:
        if to is not None:
            freezer.move_to(to)
        else:
            freezer.tick(seconds + 60 * minutes)
        async_fire_time_changed(blueprint_hass, dt_util.utcnow())
        await blueprint_hass.async_block_till_done()

    return _move


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A fixed UTC datetime on the test day."""
    return datetime(2030, 6, 15, hour, minute, second, tzinfo=dt_util.UTC)
