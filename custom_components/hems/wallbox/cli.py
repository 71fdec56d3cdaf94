"""Command line: read or command a wallbox with the same driver and profiles as HA.

    scripts/wallbox --profile phoenix|abb|alfen --host H [--port P] [--unit U] \\
        status | set-current A | enable | disable

``status`` prints JSON (state, power_w, energy_wh, current_limit_a, enabled, phases where
known); the commands act and print the status read back.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import json
import sys

from .driver import WallboxDriver, WallboxError
from .profile import PROFILES


def build_parser() -> argparse.ArgumentParser:
    """The command line's arguments."""
    parser = argparse.ArgumentParser(
        prog="wallbox", description="Read or command a wallbox over Modbus TCP."
    )
    parser.add_argument("--profile", required=True, choices=sorted(PROFILES))
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, default=None, help="default: the profile's (502)")
    parser.add_argument("--unit", type=int, default=None, help="default: the profile's unit id")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per request")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status", help="print the status as JSON")
    set_current = commands.add_parser("set-current", help="command a charging current (A)")
    set_current.add_argument("amps", type=float)
    commands.add_parser("enable", help="allow charging")
    commands.add_parser("disable", help="stop charging")
    return parser


async def run(argv: Sequence[str] | None = None) -> int:
    """Run one command; 0 on success, 1 if the wallbox failed, 2 for bad arguments."""
    args = build_parser().parse_args(argv)
    driver = WallboxDriver(
        PROFILES[args.profile],
        args.host,
        port=args.port,
        unit_id=args.unit,
        timeout=args.timeout,
    )
    try:
        # A first read learns what the box holds (current, enabled) before commanding it.
        status = await driver.read_status()
        if args.command == "set-current":
            await driver.set_current(args.amps)
        elif args.command in ("enable", "disable"):
            await driver.set_enabled(args.command == "enable")
        if args.command != "status":
            status = await driver.read_status()
    except WallboxError as err:
        print(f"wallbox: {err}", file=sys.stderr)
        return 1
    finally:
        driver.close()
    print(json.dumps(status.as_json(), indent=2))
    return 0


def main() -> None:  # pragma: no cover - the process entry point
    """Entry point of ``python -m custom_components.hems.wallbox.cli``."""
    sys.exit(asyncio.run(run()))


if __name__ == "__main__":  # pragma: no cover
    main()
