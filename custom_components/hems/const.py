"""Constants shared by every part of the hems integration."""

from typing import Final

DOMAIN: Final = "hems"
MANUFACTURER: Final = "HEMS"

# Every config entry records which kind of entry it is (sml, wallbox, loadpoint, ...).
CONF_KIND: Final = "kind"
