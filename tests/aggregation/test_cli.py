"""The benchmark CLI runs end to end on a tiny hierarchy (figures are not asserted)."""

from __future__ import annotations

import json

import pytest

from custom_components.hems.aggregation import cli


def test_bench_cli_json(socket_enabled: None, capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints the documented keys; both aggregations saw every update."""
    assert cli.main(["--members", "50", "--seconds", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"hems_us_per_update", "group_us_per_update", "max_latency_ms"} <= set(result)
    assert result["updates"] == 50
    assert result["runs"]["hems"]["site_writes"] >= 1
    assert result["runs"]["group"]["site_writes"] >= 1
    assert result["runs"]["hems"]["up_to_date"]
    assert result["runs"]["group"]["up_to_date"]


def test_bench_cli_text(socket_enabled: None, capsys: pytest.CaptureFixture[str]) -> None:
    """The human-readable report names both contenders."""
    assert cli.main(["--members", "5", "--seconds", "1"]) == 0
    out = capsys.readouterr().out
    assert "hems aggregation" in out
    assert "core group (sum)" in out
