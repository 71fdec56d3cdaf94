"""Constants of the wallbox entry kind."""

from typing import Final

KIND: Final = "wallbox"
CONF_PROFILE: Final = "profile"
CONF_UNIT_ID: Final = "unit_id"
DEFAULT_SCAN_INTERVAL: Final = 5  # s
MIN_SCAN_INTERVAL: Final = 1
MAX_SCAN_INTERVAL: Final = 300
# After a failed poll the interval doubles up to this (reconnect back-off), s.
MAX_BACKOFF: Final = 300
# Timeouts: the config flow's probe answers quickly; polls may wait a little longer.
PROBE_TIMEOUT: Final = 2.0
POLL_TIMEOUT: Final = 3.0
