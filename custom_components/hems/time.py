"""The time platform: each entry kind adds its own entities (see features.py)."""

from homeassistant.const import Platform

from .features import platform_setup

PARALLEL_UPDATES = 0

async_setup_entry = platform_setup(Platform.TIME)
