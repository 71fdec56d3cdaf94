"""Turn ESPHome device files into host-platform configs and compile them (see the wrapper)."""

from __future__ import annotations

from pathlib import Path
import subprocess
import sys
import tempfile
from typing import Any

from esphome.components.packages import do_packages_pass, merge_packages
from esphome.components.substitutions import do_substitution_pass
from esphome.core import CORE
from esphome.yaml_util import dump, load_yaml

ROOT = Path(__file__).resolve().parents[1]
ESPHOME = ROOT / ".venv-esphome" / "bin" / "esphome"

# Top-level blocks that only exist on real hardware or need a network stack.
DROP = {
    "esp32",
    "wifi",
    "captive_portal",
    "ota",
    "api",
    "uart",
    "sml",
    "i2c",
    "one_wire",
    "time",
    "button",
    "light",
}
KEEP_SENSOR = {"template", "copy"}
ENTITY_KEYS = ("id", "name", "filters", "on_value", "unit_of_measurement", "accuracy_decimals")


def stand_in_sensors(conf: dict[str, Any]) -> list[dict[str, Any]]:
    """Template sensors with the ids (and filters) of a hardware sensor and its children."""
    found = []
    if "id" in conf:
        found.append(conf)
    found.extend(v for v in conf.values() if isinstance(v, dict) and "id" in v)
    return [
        {"platform": "template", "lambda": "return NAN;"}
        | {key: item[key] for key in ENTITY_KEYS if key in item}
        for item in found
    ]


def to_host(config: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"host": {}}
    for key, value in config.items():
        if key in DROP or key in {"substitutions", "packages"}:
            continue
        if key == "sensor":
            sensors = []
            for conf in value:
                if conf["platform"] in KEEP_SENSOR:
                    sensors.append(conf)
                else:
                    sensors.extend(stand_in_sensors(conf))
            out[key] = sensors
        elif key == "text_sensor":
            out[key] = [c for c in value if c["platform"] == "version"]
        elif key in {"switch", "binary_sensor"}:
            items = []
            for original in value:
                conf = dict(original)
                if conf["platform"] == "gpio":
                    conf.pop("pin")
                    conf["platform"] = "template"
                    if key == "switch":
                        conf["optimistic"] = True
                    else:
                        conf["lambda"] = "return false;"
                items.append(conf)
            out[key] = items
        else:
            out[key] = value
    return out


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or sorted(
        p for p in (ROOT / "esphome").glob("*.yaml") if not p.name.startswith("secrets")
    )
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            CORE.config_path = path.resolve()
            config = load_yaml(path.resolve())
            config = do_packages_pass(config)
            config = do_substitution_pass(config)
            config = merge_packages(config)
            host_file = Path(tmp) / path.name
            host_file.write_text(dump(to_host(config)))
            result = subprocess.run(
                [str(ESPHOME), "compile", str(host_file)],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode == 0:
                print(f"ok      {path.name}")
            else:
                print(f"FAILED  {path.name}")
                print(result.stdout[-6000:], result.stderr[-3000:], file=sys.stderr)
                failed.append(path.name)
    if failed:
        print(f"esphome-host-compile: {len(failed)} of {len(files)} failed", file=sys.stderr)
        return 1
    print(f"esphome-host-compile: {len(files)} device files compiled for host")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
