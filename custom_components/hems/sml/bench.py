"""``scripts/bench_sml``: decode throughput and CPU share of the SML path.

1. Frames per second through our decoder (:class:`SmlDecoder`, what the integration runs)
   versus the bare smllib parser (stream reader, CRC, ``get_obis``, scaled values) on every
   dump of the shared corpus.
2. The share of one CPU core the link + decoder + meter state use for a simulated meter
   sending one frame per second over TCP (the simulator runs in a separate process).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import os
from pathlib import Path
import subprocess
import sys
import time

from smllib.errors import CrcError
from smllib.reader import SmlStreamReader

from .engine import MeterFrame, MeterState, SmlDecoder
from .simulate import DEFAULT_DUMP, template_from_dump
from .transport import SmlStream, TcpTarget

REPO = Path(__file__).resolve().parents[3]


def find_corpus() -> Path:
    """``<repo>/../shared/sml-corpus`` (or beside any parent, for git worktrees)."""
    if override := os.environ.get("HEMS_SML_CORPUS"):
        return Path(override)
    for parent in REPO.parents:
        if (candidate := parent / "shared" / "sml-corpus").is_dir():
            return candidate
    return REPO.parent / "shared" / "sml-corpus"


def _bare(dumps: Sequence[bytes]) -> int:
    frames = 0
    for data in dumps:
        reader = SmlStreamReader()
        reader.add(data)
        while True:
            try:
                frame = reader.get_frame()
            except CrcError:
                continue
            if frame is None:
                break
            try:
                values = [entry.get_value() for entry in frame.get_obis()]
            except ValueError:
                continue
            frames += bool(values)
    return frames


def _ours(dumps: Sequence[bytes]) -> int:
    frames = 0
    for data in dumps:
        decoder = SmlDecoder()
        decoder.add(data)
        while decoder.read() is not None:
            frames += 1
    return frames


def _rate(run: object, dumps: Sequence[bytes], seconds: float) -> float:
    assert callable(run)
    frames = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        frames += run(dumps)
    return frames / elapsed


async def _engine_path(seconds: float, port: int) -> tuple[float, int]:
    """Link + decoder + meter state, without Home Assistant."""
    state = MeterState()

    def on_frame(frame: MeterFrame) -> None:
        state.update(frame)

    decoder = SmlDecoder()
    stream = SmlStream(TcpTarget("127.0.0.1", port), decoder, on_frame)
    task = asyncio.get_running_loop().create_task(stream.run())
    cpu = time.process_time()
    await asyncio.sleep(seconds)
    used = time.process_time() - cpu
    task.cancel()
    return used / seconds, decoder.valid_frames


async def _home_assistant(seconds: float, port: int) -> tuple[float, int]:
    """The whole integration (coordinator, entities, state machine) in a test instance of
    Home Assistant; needs the test requirements (pytest-homeassistant-custom-component)."""
    import tempfile

    from homeassistant import loader
    from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped,unused-ignore]
        MockConfigEntry,
        async_test_home_assistant,
    )

    import custom_components

    with tempfile.TemporaryDirectory() as config_dir:
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            hass.data[loader.DATA_CUSTOM_COMPONENTS] = {
                "hems": loader.Integration.resolve_from_root(hass, custom_components, "hems")
            }
            server_id, _ = template_from_dump(DEFAULT_DUMP.read_bytes())
            entry = MockConfigEntry(
                domain="hems",
                unique_id=server_id.hex(),
                title="Simulated meter",
                data={"kind": "sml", "transport": "tcp", "host": "127.0.0.1", "port": port},
            )
            entry.add_to_hass(hass)
            assert await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()
            decoder = entry.runtime_data.decoder
            start = decoder.valid_frames
            cpu = time.process_time()
            await asyncio.sleep(seconds)
            used = time.process_time() - cpu
            frames = decoder.valid_frames - start
            await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_stop(force=True)
    return used / seconds, frames


async def _cpu_share(seconds: float, port: int, with_ha: bool) -> tuple[float, int]:
    simulator = subprocess.Popen(  # noqa: ASYNC220  # started once, before measuring
        [sys.executable, "-m", "custom_components.hems.sml.simulate", "--port", str(port)],
        cwd=REPO,
        stderr=subprocess.PIPE,
    )
    try:
        assert simulator.stderr is not None
        await asyncio.to_thread(simulator.stderr.readline)  # listening
        run = _home_assistant if with_ha else _engine_path
        return await run(seconds, port)
    finally:
        simulator.terminate()
        simulator.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=find_corpus())
    parser.add_argument("--seconds", type=float, default=3.0, help="per throughput run")
    parser.add_argument("--cpu-seconds", type=float, default=30.0, help="CPU share run")
    parser.add_argument("--port", type=int, default=18899)
    parser.add_argument(
        "--engine-only", action="store_true", help="CPU share without Home Assistant"
    )
    args = parser.parse_args(argv)
    dumps = [path.read_bytes() for path in sorted(args.corpus.glob("*.bin"))]
    if not dumps:
        print(f"no dumps in {args.corpus}", file=sys.stderr)
        return 1
    print(f"corpus: {len(dumps)} dumps, {_ours(dumps)} valid frames per pass")
    # Interleaved rounds, best of each: the machine is shared, so take the least disturbed.
    bare = ours = 0.0
    for _ in range(3):
        bare = max(bare, _rate(_bare, dumps, args.seconds))
        ours = max(ours, _rate(_ours, dumps, args.seconds))
    print(f"bare smllib:  {bare:8.0f} frames/s")
    print(f"our decoder:  {ours:8.0f} frames/s  (overhead {bare / ours:.2f}x)")
    if args.cpu_seconds > 0:
        share, frames = asyncio.run(_cpu_share(args.cpu_seconds, args.port, not args.engine_only))
        what = "link + decoder" if args.engine_only else "Home Assistant with the integration"
        print(
            f"CPU share at 1 frame/s ({what}): {share * 100:.2f} % of one core "
            f"({frames} frames in {args.cpu_seconds:g} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
