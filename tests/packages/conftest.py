"""Fixtures: a user config dir with our packages, loaded the way Home Assistant does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
import shutil
from typing import Any

from homeassistant.config import load_yaml_config_file, merge_packages_config
from homeassistant.core import HomeAssistant
from homeassistant.util.yaml import Secrets
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_SOURCE = REPO_ROOT / "packages"

CONFIGURATION_YAML = """\
homeassistant:
  packages: !include_dir_named packages
"""

SECRETS_YAML = """\
influxdb_token: test-token
influxdb_organization: 0123456789abcdef
influxdb_username: homeassistant
influxdb_password: test-password
"""

type LoadPackages = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def load_packages(hass: HomeAssistant, tmp_path: Path) -> LoadPackages:
    """Copy packages into a config dir and load configuration.yaml like HA does.

    Returns the merged configuration; a package merge error fails the test.
    """

    async def _load(*names: str) -> dict[str, Any]:
        hass.config.config_dir = str(tmp_path)
        package_dir = tmp_path / "packages"
        package_dir.mkdir(exist_ok=True)
        for name in names:
            shutil.copy(PACKAGE_SOURCE / name, package_dir / name)
        (tmp_path / "configuration.yaml").write_text(CONFIGURATION_YAML)
        (tmp_path / "secrets.yaml").write_text(SECRETS_YAML)

        config: dict[str, Any] = await hass.async_add_executor_job(
            load_yaml_config_file, str(tmp_path / "configuration.yaml"), Secrets(tmp_path)
        )
        errors: list[str] = []

        def collect(
            _hass: HomeAssistant, package: str, component: str | None, _c: dict, message: str
        ) -> None:
            errors.append(f"{package}/{component}: {message}")

        packages = config["homeassistant"]["packages"]
        assert sorted(packages) == sorted(Path(name).stem for name in names)
        await merge_packages_config(hass, config, packages, _log_pkg_error=collect)
        assert errors == []
        return config

    return _load
