"""Constants of the SML smart-meter entry kind."""

from typing import Final

KIND: Final = "sml"

CONF_TRANSPORT: Final = "transport"
TRANSPORT_SERIAL: Final = "serial"
TRANSPORT_TCP: Final = "tcp"
CONF_DEVICE: Final = "device"
CONF_BAUDRATE: Final = "baudrate"
CONF_CRC: Final = "crc"

CONF_SILENCE_TIMEOUT: Final = "silence_timeout"
CONF_THROTTLE: Final = "throttle"
DEFAULT_SILENCE_TIMEOUT: Final = 30
DEFAULT_THROTTLE: Final = 1.0

# How long setup waits for the first frame before it asks Home Assistant to retry.
FIRST_FRAME_TIMEOUT: Final = 15.0
