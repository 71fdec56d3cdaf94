"""Shared test setup: load our custom integration and fail on HA deprecation warnings."""

from __future__ import annotations

from collections.abc import Iterator
import logging

import pytest

# Import before the `hass` fixture runs, so HA finds the custom integration.
import custom_components.hems  # noqa: F401

# Loggers through which Home Assistant reports deprecated or soon-to-break usage.
DEPRECATION_LOGGERS = ("homeassistant.helpers.frame", "homeassistant.helpers.deprecation")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let every test load custom_components/hems."""


@pytest.fixture(autouse=True)
def fail_on_deprecation(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Any deprecation report that names our integration fails the test."""
    yield
    reports = [
        record.getMessage()
        for record in caplog.get_records("call")
        if record.name in DEPRECATION_LOGGERS
        and record.levelno >= logging.WARNING
        and "hems" in record.getMessage()
    ]
    assert not reports, f"Home Assistant reported deprecated usage: {reports}"
