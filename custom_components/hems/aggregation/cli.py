"""Benchmark: our aggregation against HA core's ``group`` sum sensors, in a real HA instance.

    scripts/bench_aggregation --members 1000 [--seconds 5] [--json]

Builds 5 floors with 50 areas and ``--members`` power sensors in the registries, then
changes every member once per second (spread over the second in 50 batches) for
``--seconds`` seconds, three times: with nothing aggregating (the baseline: HA's own cost
of a state change), with one hems aggregation entry, and with core ``group`` sum sensors
over the same hierarchy (area groups, floor groups of those, a site group of the floors).
CPU time (``time.process_time``) above the baseline, divided by the number of member
updates, is the cost per update. The latency is from a member change to the next write of
the site total (worst case over the run).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass
import json
from pathlib import Path
import sys
import tempfile
import time
from typing import Any

from homeassistant import loader
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import area_registry as ar, entity_registry as er, floor_registry as fr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.hems.const import CONF_KIND, DOMAIN

from .const import KIND

FLOORS = 5
AREAS = 50
BATCHES = 50
POWER = {"unit_of_measurement": "W", "device_class": "power", "state_class": "measurement"}


@dataclass
class Run:
    """What one configuration cost."""

    cpu_s: float
    updates: int
    max_latency_ms: float
    site_writes: int
    up_to_date: bool  # the site total reflected the last member change at the end


@dataclass
class Hierarchy:
    """Members per area and areas per floor."""

    members: list[str]
    areas: dict[int, list[str]]
    floors: dict[int, list[int]]


def _build_registries(hass: HomeAssistant, members: int, run: str) -> Hierarchy:
    # Names carry the run's name: under pytest the registries' storage outlives a run.
    floors = [fr.async_get(hass).async_create(f"{run} floor {f}", level=f) for f in range(FLOORS)]
    areas = [
        ar.async_get(hass).async_create(f"{run} area {a}", floor_id=floors[a % FLOORS].floor_id)
        for a in range(AREAS)
    ]
    registry = er.async_get(hass)
    result = Hierarchy(members=[], areas={a: [] for a in range(AREAS)}, floors={})
    for f in range(FLOORS):
        result.floors[f] = [a for a in range(AREAS) if a % FLOORS == f]
    for index in range(members):
        entity_id = registry.async_get_or_create(
            "sensor",
            "bench",
            f"m{index}",
            suggested_object_id=f"m{index}",
            original_device_class="power",
            unit_of_measurement="W",
        ).entity_id
        area = index % AREAS
        registry.async_update_entity(entity_id, area_id=areas[area].id)
        result.members.append(entity_id)
        result.areas[area].append(entity_id)
    return result


async def _setup_hems(hass: HomeAssistant) -> str:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Bench",
        data={CONF_KIND: KIND, "name": "Bench", "source": "registry"},
    )
    entry.add_to_hass(hass)
    if not await hass.config_entries.async_setup(entry.entry_id):
        raise RuntimeError("the aggregation did not set up")
    await hass.async_block_till_done()
    site = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{entry.entry_id}_site_power")
    assert site is not None
    return site


async def _setup_group(hass: HomeAssistant, hierarchy: Hierarchy) -> str:
    def group(name: str, entities: list[str]) -> dict[str, Any]:
        return {
            "platform": "group",
            "type": "sum",
            "name": name,
            "unique_id": name.lower().replace(" ", "_"),
            "entities": entities,
            "unit_of_measurement": "W",
            "device_class": "power",
            "state_class": "measurement",
        }

    configs = [group(f"Group area {a}", ids) for a, ids in hierarchy.areas.items()]
    configs += [
        group(f"Group floor {f}", [f"sensor.group_area_{a}" for a in areas])
        for f, areas in hierarchy.floors.items()
    ]
    configs.append(group("Group site", [f"sensor.group_floor_{f}" for f in hierarchy.floors]))
    if not await async_setup_component(hass, "sensor", {"sensor": configs}):
        raise RuntimeError("the group sensors did not set up")
    await hass.async_block_till_done()
    return "sensor.group_site"


async def _run(mode: str, members: int, seconds: int, config_dir: Path) -> Run:
    async with async_test_home_assistant(config_dir=str(config_dir)) as hass:
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)  # find custom_components/hems
        hierarchy = _build_registries(hass, members, mode)
        for entity_id in hierarchy.members:
            hass.states.async_set(entity_id, "10", POWER)
        site: str | None = None
        if mode == "hems":
            site = await _setup_hems(hass)
        elif mode == "group":
            site = await _setup_group(hass, hierarchy)
        await hass.async_block_till_done()
        await asyncio.sleep(1.0)

        pending_since: float | None = None
        worst = 0.0
        site_writes = 0

        @callback
        def on_change(event: Event[EventStateChangedData]) -> None:
            nonlocal pending_since, worst, site_writes
            if event.data["entity_id"] == site and pending_since is not None:
                worst = max(worst, time.perf_counter() - pending_since)
                pending_since = None
                site_writes += 1

        unsub: Callable[[], None] = hass.bus.async_listen(EVENT_STATE_CHANGED, on_change)
        per_batch = max(1, members // BATCHES)
        updates = 0
        start = time.process_time()
        for second in range(seconds):
            for offset in range(0, members, per_batch):
                for entity_id in hierarchy.members[offset : offset + per_batch]:
                    if pending_since is None:
                        pending_since = time.perf_counter()
                    hass.states.async_set(entity_id, str(11 + second + (offset % 7)), POWER)
                    updates += 1
                await asyncio.sleep(1.0 / BATCHES)
        await asyncio.sleep(1.0)  # let the last coalesced writes happen
        await hass.async_block_till_done()
        cpu = time.process_time() - start
        unsub()
        up_to_date = site is None or pending_since is None
        await hass.async_stop(force=True)
        return Run(
            cpu_s=cpu,
            updates=updates,
            max_latency_ms=worst * 1000.0,
            site_writes=site_writes,
            up_to_date=up_to_date,
        )


async def bench(members: int, seconds: int) -> dict[str, Any]:
    """Run the three configurations and compute the figures."""
    runs: dict[str, Run] = {}
    for mode in ("none", "hems", "group"):
        with tempfile.TemporaryDirectory() as config_dir:
            (Path(config_dir) / "configuration.yaml").write_text("", encoding="utf-8")
            runs[mode] = await _run(mode, members, seconds, Path(config_dir))

    def us_per_update(mode: str) -> float:
        extra = runs[mode].cpu_s - runs["none"].cpu_s
        return max(0.0, extra) / runs[mode].updates * 1e6

    hems, group = us_per_update("hems"), us_per_update("group")
    return {
        "members": members,
        "floors": FLOORS,
        "areas": AREAS,
        "seconds": seconds,
        "updates": runs["hems"].updates,
        "baseline_us_per_update": runs["none"].cpu_s / runs["none"].updates * 1e6,
        "hems_us_per_update": round(hems, 2),
        "group_us_per_update": round(group, 2),
        "ratio": round(hems / group, 3) if group else None,
        "max_latency_ms": round(runs["hems"].max_latency_ms, 1),
        "group_max_latency_ms": round(runs["group"].max_latency_ms, 1),
        "hems_site_writes": runs["hems"].site_writes,
        "group_site_writes": runs["group"].site_writes,
        "runs": {mode: asdict(run) for mode, run in runs.items()},
    }


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = asyncio.run(bench(args.members, args.seconds))
    if args.json:
        print(json.dumps(result))
    else:
        print(f"members: {result['members']} in {FLOORS} floors / {AREAS} areas")
        print(f"member updates per run: {result['updates']}")
        print(f"HA baseline per state change: {result['baseline_us_per_update']:.1f} us CPU")
        print(f"hems aggregation:   {result['hems_us_per_update']:8.2f} us CPU per update")
        print(f"core group (sum):   {result['group_us_per_update']:8.2f} us CPU per update")
        print(f"ratio hems/group:   {result['ratio']}")
        print(f"worst latency member -> site total: hems {result['max_latency_ms']} ms,")
        print(f"                                    group {result['group_max_latency_ms']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
