"""Every shipped blueprint is a valid HA blueprint and is linked from the docs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from homeassistant.components.blueprint import models, schemas
from homeassistant.util.yaml import load_yaml_dict
import pytest

from .conftest import BLUEPRINT_SOURCE, REPO_ROOT

BLUEPRINTS = sorted(BLUEPRINT_SOURCE.glob("*.yaml"))
RAW_BASE = "https://raw.githubusercontent.com/hems-ha/hems/main/blueprints/automation/hems/"


def test_there_are_blueprints() -> None:
    assert len(BLUEPRINTS) == 7


@pytest.mark.parametrize("path", BLUEPRINTS, ids=lambda p: p.name)
def test_blueprint_is_valid_and_documented(path: Path) -> None:
    blueprint = models.Blueprint(
        load_yaml_dict(path), expected_domain="automation", schema=schemas.BLUEPRINT_SCHEMA
    )
    assert blueprint.metadata["source_url"].endswith(f"/blueprints/automation/hems/{path.name}")
    assert blueprint.name.startswith("HEMS ")
    docs = (REPO_ROOT / "docs" / "device-side.md").read_text()
    link = "https://my.home-assistant.io/redirect/blueprint_import/?blueprint_url=" + quote(
        RAW_BASE + path.name, safe=""
    )
    assert link in docs
